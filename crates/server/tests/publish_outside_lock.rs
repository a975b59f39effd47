//! Committed changes are published outside the database lock (a slow push to one user holds up
//! nobody else's writes) and still in feed order per user when writers race.

use chat_core::id::ConversationId;
use chat_core::wire::ChangeEnvelope;
use chat_server::sqlite::SqliteStorage;
use chat_server::storage::{ChangeSink, Storage};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Records what is published; publishing to "fan" blocks until `release`.
#[derive(Default)]
struct GatedSink {
    released: Mutex<bool>,
    wake: Condvar,
    seen: Mutex<HashMap<String, Vec<u64>>>,
}

impl GatedSink {
    fn release(&self) {
        *self.released.lock().unwrap() = true;
        self.wake.notify_all();
    }
}

impl ChangeSink for GatedSink {
    fn publish(&self, user_id: &str, changes: &[ChangeEnvelope]) {
        if user_id == "fan" {
            let mut released = self.released.lock().unwrap();
            while !*released {
                released = self.wake.wait(released).unwrap();
            }
        }
        let mut seen = self.seen.lock().unwrap();
        let list = seen.entry(user_id.to_owned()).or_default();
        list.extend(changes.iter().map(|c| c.seq));
    }
}

fn c2c(peer: &str) -> ConversationId {
    ConversationId::c2c(peer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_blocked_push_delays_no_other_write_and_order_holds() {
    let sink = Arc::new(GatedSink::default());
    let storage = Arc::new(SqliteStorage::open(":memory:", sink.clone()).unwrap());
    // alice's message to fan commits, then its publish to fan blocks.
    let first = {
        let storage = storage.clone();
        tokio::spawn(async move { storage.send_text("alice", &c2c("fan"), "one", 1).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Other users' writes, and more messages to fan, still complete.
    let quick = tokio::time::timeout(Duration::from_secs(3), async {
        storage
            .send_text("bob", &c2c("carol"), "hi", 2)
            .await
            .unwrap();
        for i in 0..20 {
            storage
                .send_text("dave", &c2c("fan"), &format!("m{i}"), 3)
                .await
                .unwrap();
        }
    })
    .await;
    let fan_early = sink.seen.lock().unwrap().contains_key("fan");
    // Unblock before asserting so that a failure ends the test instead of hanging it.
    sink.release();
    assert!(quick.is_ok(), "writes waited for another user's push");
    assert!(!fan_early);
    assert_eq!(sink.seen.lock().unwrap()["carol"], [1]);
    first.await.unwrap().unwrap();
    // Every entry reaches fan once, in feed order, though 21 writers raced to publish them.
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        let fan = sink
            .seen
            .lock()
            .unwrap()
            .get("fan")
            .cloned()
            .unwrap_or_default();
        if fan.len() == 21 || std::time::Instant::now() > deadline {
            assert_eq!(fan, (1..=21).collect::<Vec<u64>>());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
