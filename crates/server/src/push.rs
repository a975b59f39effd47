//! Registry of connected WebSockets per user. Committed changes are serialized once and queued to
//! every socket of the user; a socket whose queue is full is dropped (its client resyncs from the
//! change feed on reconnect, so nothing is lost).

use crate::storage::ChangeSink;
use chat_core::wire::{Change, ChangeEnvelope};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};

const QUEUE: usize = 1024;

/// Connected sockets per user: (socket id, its queue).
type Clients = HashMap<String, Vec<(u64, mpsc::Sender<String>)>>;

pub struct Hub {
    sync_deletion: bool,
    next_id: AtomicU64,
    clients: Mutex<Clients>,
    shutdown: watch::Sender<bool>,
}

/// One registered socket; unregisters on drop.
pub struct Subscription {
    hub: Arc<Hub>,
    user_id: String,
    id: u64,
    pub rx: mpsc::Receiver<String>,
    pub shutdown: watch::Receiver<bool>,
}

impl Hub {
    pub fn new(sync_deletion: bool) -> Arc<Hub> {
        Arc::new(Hub {
            sync_deletion,
            next_id: AtomicU64::new(1),
            clients: Mutex::new(HashMap::new()),
            shutdown: watch::channel(false).0,
        })
    }

    pub fn subscribe(self: &Arc<Self>, user_id: &str) -> Subscription {
        let (tx, rx) = mpsc::channel(QUEUE);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock()
            .entry(user_id.to_owned())
            .or_default()
            .push((id, tx));
        Subscription {
            hub: self.clone(),
            user_id: user_id.to_owned(),
            id,
            rx,
            shutdown: self.shutdown.subscribe(),
        }
    }

    /// Tells every socket task to close (server shutdown).
    pub fn close_all(&self) {
        self.shutdown.send_replace(true);
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Clients> {
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ChangeSink for Hub {
    fn publish(&self, user_id: &str, change: &ChangeEnvelope) {
        if matches!(change.change, Change::ConversationDeleted { .. }) && !self.sync_deletion {
            return;
        }
        let mut clients = self.lock();
        let Some(list) = clients.get_mut(user_id) else {
            return;
        };
        let Ok(text) = serde_json::to_string(change) else {
            return;
        };
        list.retain(|(_, tx)| tx.try_send(text.clone()).is_ok());
        if list.is_empty() {
            clients.remove(user_id);
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut clients = self.hub.lock();
        if let Some(list) = clients.get_mut(&self.user_id) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                clients.remove(&self.user_id);
            }
        }
    }
}
