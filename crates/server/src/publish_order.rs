//! Publishing committed feed entries outside the database lock, still in feed order per user.
//!
//! A writer calls `enqueue` while it still holds the database lock (right after COMMIT), which
//! fixes each user's order; it then releases the lock and calls `drain`, which hands the queued
//! entries to the sink. Only one thread drains a given user at a time (a later writer leaves its
//! entries to the thread already draining), so a slow fan-out to one user delays neither the
//! database nor other users' pushes.

use crate::storage::ChangeSink;
use chat_core::wire::ChangeEnvelope;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Default)]
struct UserQueue {
    pending: VecDeque<ChangeEnvelope>,
    draining: bool,
}

pub struct OrderedPublisher {
    sink: Arc<dyn ChangeSink>,
    queues: Mutex<HashMap<String, UserQueue>>,
}

impl OrderedPublisher {
    pub fn new(sink: Arc<dyn ChangeSink>) -> Self {
        OrderedPublisher {
            sink,
            queues: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, UserQueue>> {
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues committed entries; call with the writer lock held. Returns the users to drain.
    pub fn enqueue(&self, entries: Vec<(String, ChangeEnvelope)>) -> Vec<String> {
        let mut queues = self.lock();
        let mut users: Vec<String> = Vec::new();
        for (user, env) in entries {
            if !users.contains(&user) {
                users.push(user.clone());
            }
            queues.entry(user).or_default().pending.push_back(env);
        }
        users
    }

    /// Publishes what is queued for `users`; call after releasing the writer lock.
    pub fn drain(&self, users: &[String]) {
        for user in users {
            self.drain_one(user);
        }
    }

    fn drain_one(&self, user: &str) {
        {
            let mut queues = self.lock();
            match queues.get_mut(user) {
                Some(q) if !q.draining => q.draining = true,
                _ => return,
            }
        }
        loop {
            let batch = {
                let mut queues = self.lock();
                let Some(q) = queues.get_mut(user) else {
                    return;
                };
                if q.pending.is_empty() {
                    queues.remove(user);
                    return;
                }
                std::mem::take(&mut q.pending)
            };
            for env in &batch {
                self.sink.publish(user, env);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::wire::Change;

    struct Record(Mutex<Vec<(String, u64)>>);
    impl ChangeSink for Record {
        fn publish(&self, user_id: &str, change: &ChangeEnvelope) {
            self.0
                .lock()
                .unwrap()
                .push((user_id.to_owned(), change.seq));
        }
    }

    fn env(seq: u64) -> ChangeEnvelope {
        ChangeEnvelope {
            seq,
            change: Change::ConversationDeleted {
                conversation_id: "c2c_x".into(),
                clear_message: false,
                upto_seq: 0,
            },
        }
    }

    #[test]
    fn entries_queued_while_another_thread_drains_follow_in_order() {
        let record = Arc::new(Record(Mutex::new(Vec::new())));
        let p = OrderedPublisher::new(record.clone());
        let users = p.enqueue(vec![("a".into(), env(1)), ("b".into(), env(1))]);
        // A second writer commits before the first drains: its entry waits behind seq 1.
        let later = p.enqueue(vec![("a".into(), env(2))]);
        p.drain(&later);
        p.drain(&users);
        p.drain(&later);
        assert_eq!(
            *record.0.lock().unwrap(),
            [("a".into(), 1), ("a".into(), 2), ("b".into(), 1)]
        );
        assert!(p.lock().is_empty(), "queues are dropped once drained");
    }
}
