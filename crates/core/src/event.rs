//! Events the SDK delivers to listeners, with IDs already in the caller's chosen style.

use crate::model::{Conversation, Message};

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    ConversationDeleted(Vec<String>),
    NewConversation(Vec<Conversation>),
    ConversationChanged(Vec<Conversation>),
    TotalUnreadChanged(u64),
    SyncServerStart,
    SyncServerFinish,
    SyncServerFailed,
    RecvNewMessage(Message),
    Connecting,
    ConnectSuccess,
    ConnectFailed { code: u32, message: String },
    UserSigExpired,
    StorageFallback(String),
}

/// Which registry an event goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Conversation,
    Message,
    Sdk,
}

impl Event {
    pub fn channel(&self) -> Channel {
        match self {
            Event::ConversationDeleted(_)
            | Event::NewConversation(_)
            | Event::ConversationChanged(_)
            | Event::TotalUnreadChanged(_)
            | Event::SyncServerStart
            | Event::SyncServerFinish
            | Event::SyncServerFailed => Channel::Conversation,
            Event::RecvNewMessage(_) => Channel::Message,
            Event::Connecting
            | Event::ConnectSuccess
            | Event::ConnectFailed { .. }
            | Event::UserSigExpired
            | Event::StorageFallback(_) => Channel::Sdk,
        }
    }

    /// The listener method that receives it.
    pub fn name(&self) -> &'static str {
        match self {
            Event::ConversationDeleted(_) => "onConversationDeleted",
            Event::NewConversation(_) => "onNewConversation",
            Event::ConversationChanged(_) => "onConversationChanged",
            Event::TotalUnreadChanged(_) => "onTotalUnreadMessageCountChanged",
            Event::SyncServerStart => "onSyncServerStart",
            Event::SyncServerFinish => "onSyncServerFinish",
            Event::SyncServerFailed => "onSyncServerFailed",
            Event::RecvNewMessage(_) => "onRecvNewMessage",
            Event::Connecting => "onConnecting",
            Event::ConnectSuccess => "onConnectSuccess",
            Event::ConnectFailed { .. } => "onConnectFailed",
            Event::UserSigExpired => "onUserSigExpired",
            Event::StorageFallback(_) => "onStorageFallback",
        }
    }
}

/// What the engine needs from its host besides storage and transport.
pub trait Hooks {
    /// Delivers an event to the listeners (synchronously; no SDK borrow is held).
    fn emit(&self, event: Event);
    /// Sends changes this client made to the user's other tabs (BroadcastChannel), each with
    /// the seq of its feed entry (0 when the server did not say).
    fn share_with_tabs(&self, changes: &[crate::wire::ChangeEnvelope]);
    /// Reports a problem that does not fail the call (console.error in the browser).
    fn log_error(&self, message: &str);
}
