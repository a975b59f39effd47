//! The chat SDK's core: every conversation rule of the public contract, with no I/O.
//!
//! The browser SDK (root crate) and the reference server (`crates/server`) are thin shells around
//! the types here.

pub mod error;
pub mod id;
pub mod model;
pub mod wire;

pub use error::{ChatError, ErrorCode, Result};
pub use id::{ConversationId, ConversationType, IdStyle};
pub use model::{Conversation, ConversationOperationResult, ConversationPage, Message, Tombstone};

pub mod args;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod engine;
pub mod event;
pub mod listeners;
mod map;
pub mod memory_store;
pub mod rules;
pub mod state;
pub mod store;
pub mod transport;

pub use args::Arg;
pub use engine::{Engine, EngineOptions};
pub use event::{Event, Hooks};
