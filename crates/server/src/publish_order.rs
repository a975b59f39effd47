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
                Vec::from(std::mem::take(&mut q.pending))
            };
            self.sink.publish(user, &batch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::wire::Change;

    struct Record(Mutex<Vec<(String, u64)>>);
    impl ChangeSink for Record {
        fn publish(&self, user_id: &str, changes: &[ChangeEnvelope]) {
            let mut all = self.0.lock().unwrap();
            all.extend(changes.iter().map(|c| (user_id.to_owned(), c.seq)));
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

    /// A seeded scheduler of simulated writers: each commits (enqueues) entries for a few
    /// users and later drains them; while a drain publishes, the sink lets other writers act,
    /// as concurrent threads would. Replay a failure with its seed.
    struct Sim {
        publisher: std::sync::OnceLock<std::sync::Weak<OrderedPublisher>>,
        sched: Mutex<Sched>,
        seen: Mutex<HashMap<String, Vec<u64>>>,
    }

    struct Sched {
        rng: u64,
        /// Per writer: the users it writes to, and those it enqueued but has not drained.
        writers: Vec<(Vec<String>, Option<Vec<String>>)>,
        feed: HashMap<String, u64>,
    }

    impl Sched {
        fn next(&mut self, n: u64) -> u64 {
            // xorshift64*: enough to vary interleavings, same on every machine.
            self.rng ^= self.rng >> 12;
            self.rng ^= self.rng << 25;
            self.rng ^= self.rng >> 27;
            self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
        }
    }

    impl Sim {
        /// Runs one step of a random writer; false when every writer is done.
        fn step(&self) -> bool {
            let publisher = self.publisher.get().unwrap().upgrade().unwrap();
            let mut sched = self.sched.lock().unwrap();
            let live: Vec<usize> = (0..sched.writers.len())
                .filter(|&w| !sched.writers[w].0.is_empty() || sched.writers[w].1.is_some())
                .collect();
            if live.is_empty() {
                return false;
            }
            let w = live[sched.next(live.len() as u64) as usize];
            if let Some(users) = sched.writers[w].1.take() {
                drop(sched);
                publisher.drain(&users);
                return true;
            }
            let users = std::mem::take(&mut sched.writers[w].0);
            let entries = users
                .iter()
                .map(|u| {
                    let seq = sched.feed.entry(u.clone()).or_default();
                    *seq += 1;
                    (u.clone(), env(*seq))
                })
                .collect();
            // Enqueued under the scheduler lock, as under the database lock.
            let to_drain = publisher.enqueue(entries);
            sched.writers[w].1 = Some(to_drain);
            true
        }
    }

    impl ChangeSink for Sim {
        fn publish(&self, user_id: &str, changes: &[ChangeEnvelope]) {
            for change in changes {
                let mut seen = self.seen.lock().unwrap();
                seen.entry(user_id.to_owned()).or_default().push(change.seq);
                drop(seen);
                let interleave = self.sched.lock().unwrap().next(2) == 0;
                if interleave {
                    self.step();
                }
            }
        }
    }

    #[test]
    fn seeded_interleavings_keep_each_users_order() {
        for seed in 1..=300u64 {
            let sim = Arc::new(Sim {
                publisher: std::sync::OnceLock::new(),
                sched: Mutex::new(Sched {
                    rng: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
                    writers: Vec::new(),
                    feed: HashMap::new(),
                }),
                seen: Mutex::new(HashMap::new()),
            });
            {
                let mut sched = sim.sched.lock().unwrap();
                for _ in 0..12 {
                    let n = 1 + sched.next(3);
                    let users = (0..n).map(|_| format!("u{}", sched.next(4))).collect();
                    sched.writers.push((users, None));
                }
            }
            let publisher = Arc::new(OrderedPublisher::new(sim.clone()));
            sim.publisher.set(Arc::downgrade(&publisher)).ok().unwrap();
            while sim.step() {}
            let feed = sim.sched.lock().unwrap().feed.clone();
            let seen = sim.seen.lock().unwrap().clone();
            for (user, newest) in feed {
                let expected: Vec<u64> = (1..=newest).collect();
                assert_eq!(seen[&user], expected, "user {user}, seed {seed}");
            }
            assert!(publisher.lock().is_empty(), "seed {seed}");
        }
    }
}
