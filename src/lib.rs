//! The browser SDK: a thin `#[wasm_bindgen]` facade over `chat-core`'s engine, plus the browser
//! implementations of its traits (IndexedDB store, HTTP transport, WebSocket push, cross-tab sync).
//! No conversation rule lives here. Module graph (no cycles): `sdk` → `managers` → `inner` →
//! {`http`, `push`, `tabs`, `hooks` → `listener`} → `convert`/`errors`/`events`; `promise` → `errors`.

mod convert;
mod errors;
mod events;
mod hooks;
mod http;
pub mod idb_store;
mod inner;
mod listener;
mod managers;
mod promise;
mod push;
mod records;
mod sdk;
mod tabs;

// Single-threaded wasm (no atomics): talc instead of dlmalloc, a few KB smaller.
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

pub use managers::{ConversationManager, MessageManager};
pub use sdk::ChatSDK;
