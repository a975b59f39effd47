//! Registry of connected WebSockets per user. Each committed change is serialized once into a
//! shared frame (`Utf8Bytes`: reference-counted, so every socket of the user gets the same bytes)
//! and queued to every socket of the user. Queues are bounded in bytes: a socket whose queue
//! overflows is dropped from the registry and closed (its client resyncs from the change feed on
//! reconnect, so nothing is lost). A user has at most `per_user` sockets at once.

use crate::config::WsLimits;
use crate::storage::ChangeSink;
use axum::extract::ws::Utf8Bytes;
use chat_core::wire::{Change, ChangeEnvelope};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};

/// Bookkeeping cost charged per queued frame on top of its bytes, so that a flood of tiny frames
/// is bounded too.
const FRAME_OVERHEAD: usize = 64;

/// What the socket task and the publisher share about one queue.
#[derive(Default)]
pub struct QueueState {
    queued: AtomicUsize,
    overflowed: AtomicBool,
}

struct Client {
    id: u64,
    tx: mpsc::UnboundedSender<Utf8Bytes>,
    state: Arc<QueueState>,
}

type Clients = HashMap<String, Vec<Client>>;

pub struct Hub {
    sync_deletion: bool,
    limits: WsLimits,
    next_id: AtomicU64,
    clients: Mutex<Clients>,
    shutdown: watch::Sender<bool>,
}

/// One registered socket; unregisters on drop.
pub struct Subscription {
    hub: Arc<Hub>,
    user_id: String,
    id: u64,
    state: Arc<QueueState>,
    pub rx: mpsc::UnboundedReceiver<Utf8Bytes>,
    pub shutdown: watch::Receiver<bool>,
}

/// The user already has `limit` sockets.
#[derive(Debug)]
pub struct TooManySockets {
    pub limit: usize,
}

impl Hub {
    pub fn new(sync_deletion: bool, limits: WsLimits) -> Arc<Hub> {
        Arc::new(Hub {
            sync_deletion,
            limits,
            next_id: AtomicU64::new(1),
            clients: Mutex::new(HashMap::new()),
            shutdown: watch::channel(false).0,
        })
    }

    pub fn limits(&self) -> &WsLimits {
        &self.limits
    }

    pub fn subscribe(self: &Arc<Self>, user_id: &str) -> Result<Subscription, TooManySockets> {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(QueueState::default());
        let mut clients = self.lock();
        let list = clients.entry(user_id.to_owned()).or_default();
        if list.len() >= self.limits.per_user {
            return Err(TooManySockets {
                limit: self.limits.per_user,
            });
        }
        list.push(Client {
            id,
            tx,
            state: state.clone(),
        });
        drop(clients);
        Ok(Subscription {
            hub: self.clone(),
            user_id: user_id.to_owned(),
            id,
            state,
            rx,
            shutdown: self.shutdown.subscribe(),
        })
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

impl Subscription {
    /// Call when a frame leaves the queue.
    pub fn dequeued(&self, frame: &Utf8Bytes) {
        self.state
            .queued
            .fetch_sub(frame.len() + FRAME_OVERHEAD, Ordering::Relaxed);
    }

    /// Whether the queue overflowed: the socket must be closed, its client resyncs.
    pub fn overflowed(&self) -> bool {
        self.state.overflowed.load(Ordering::Relaxed)
    }
}

impl ChangeSink for Hub {
    fn wants(&self, user_id: &str) -> bool {
        self.lock().contains_key(user_id)
    }

    /// Drops every socket's queue: each socket closes as on overflow, its client resyncs.
    fn resync_all(&self) {
        let mut clients = self.lock();
        for c in clients.values().flatten() {
            c.state.overflowed.store(true, Ordering::Relaxed);
        }
        clients.clear();
    }

    fn publish(&self, user_id: &str, changes: &[ChangeEnvelope]) {
        if !self.lock().contains_key(user_id) {
            return;
        }
        // Serialized once, outside the lock; every socket shares these bytes.
        let frames: Vec<Utf8Bytes> = changes
            .iter()
            .filter(|c| {
                self.sync_deletion || !matches!(c.change, Change::ConversationDeleted { .. })
            })
            .filter_map(|c| serde_json::to_string(c).ok().map(Utf8Bytes::from))
            .collect();
        if frames.is_empty() {
            return;
        }
        // The batch is charged at once, before its first frame can be read: whether it
        // overflows a queue does not depend on how fast that socket's task happens to run.
        let cost: usize = frames.iter().map(|f| f.len() + FRAME_OVERHEAD).sum();
        let limit = self.limits.queue_bytes;
        let mut clients = self.lock();
        let Some(list) = clients.get_mut(user_id) else {
            return;
        };
        list.retain(|c| {
            let before = c.state.queued.fetch_add(cost, Ordering::Relaxed);
            if before + cost > limit {
                c.state.overflowed.store(true, Ordering::Relaxed);
                return false; // dropping the sender ends the socket's queue
            }
            frames.iter().all(|f| c.tx.send(f.clone()).is_ok())
        });
        if list.is_empty() {
            clients.remove(user_id);
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut clients = self.hub.lock();
        if let Some(list) = clients.get_mut(&self.user_id) {
            list.retain(|c| c.id != self.id);
            if list.is_empty() {
                clients.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deleted(seq: u64) -> ChangeEnvelope {
        ChangeEnvelope {
            seq,
            change: Change::ConversationDeleted {
                conversation_id: format!("c2c_peer{seq}"),
                clear_message: false,
                upto_seq: 0,
            },
        }
    }

    fn hub(queue_bytes: usize) -> Arc<Hub> {
        Hub::new(
            true,
            WsLimits {
                queue_bytes,
                ..WsLimits::default()
            },
        )
    }

    #[test]
    fn a_batch_over_the_queue_bound_overflows_whole() {
        let hub = hub(1024);
        let mut sub = hub.subscribe("alice").unwrap();
        let batch: Vec<_> = (1..=20).map(deleted).collect();
        hub.publish("alice", &batch);
        assert!(sub.overflowed());
        // Not one frame of it was queued: the socket closes at once, its client resyncs.
        assert!(sub.rx.try_recv().is_err());
        assert!(!hub.wants("alice"), "the socket left the registry");
    }

    #[test]
    fn batches_that_fit_are_queued_in_order_and_read_frames_free_room() {
        let hub = hub(1024);
        let mut sub = hub.subscribe("alice").unwrap();
        for round in 0..10u64 {
            let batch: Vec<_> = (1..=3).map(|i| deleted(round * 3 + i)).collect();
            hub.publish("alice", &batch);
            for want in &batch {
                let frame = sub.rx.try_recv().expect("queued");
                sub.dequeued(&frame);
                let got: ChangeEnvelope = serde_json::from_str(frame.as_str()).unwrap();
                assert_eq!(got.seq, want.seq);
            }
        }
        assert!(!sub.overflowed());
    }
}
