//! The browser SDK: a thin `#[wasm_bindgen]` facade over `chat-core`'s engine, plus the browser
//! implementations of its traits (IndexedDB store, HTTP transport, WebSocket push, cross-tab sync).
//! No conversation rule lives here.

mod convert;
mod errors;
mod hooks;
mod http;
pub mod idb_store;
mod listener;
mod managers;
mod push;
mod sdk;
mod tabs;

pub use errors::{chat_error_class, error_codes};
pub use managers::{ConversationManager, MessageManager};
pub use sdk::ChatSDK;
