//! A heavy push fan-out (12 KB messages to a group whose members hold 1,000 sockets) must not
//! delay other users' writes: pushes are published after the commit, outside the database lock.
//! Measured in a debug build: quiet sends p50 ~8 ms alone, ~70 ms during the fan-out; 3.5 s when
//! publishing under the lock. The deterministic version is publish_outside_lock.rs.

mod common;

use common::*;
use futures_util::StreamExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A group of `MEMBERS` users with `TABS` sockets each (within a per-user socket cap).
const MEMBERS: usize = 250;
const TABS: usize = 4;
const SOCKETS: usize = MEMBERS * TABS;
const SAMPLES: usize = 40;

/// Median latency of `SAMPLES` sequential sends between two quiet users.
async fn quiet_send_p50(srv: &Srv) -> Duration {
    let mut times = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let t = Instant::now();
        srv.say("bob", "c2c_carol", &format!("quiet {i}")).await;
        times.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    times.sort();
    times[SAMPLES / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn other_users_sends_are_not_delayed_by_a_heavy_fan_out() {
    let srv = Arc::new(start(|c| c.dev = true).await);
    let members: Vec<String> = (0..MEMBERS).map(|i| format!("fan{i}")).collect();
    let (status, _) = srv
        .send_raw(
            srv.client.post(format!("{}/dev/groups", srv.url)).json(
                &serde_json::json!({"groupID": "crowd", "name": "Crowd", "members": members}),
            ),
        )
        .await;
    assert_eq!(status, 200);
    // Warm up both conversations (first sends create rows).
    srv.say("bob", "c2c_carol", "warm").await;
    srv.say("fan0", "group_crowd", "warm").await;
    let received = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::new();
    for i in 0..SOCKETS {
        let mut ws = srv.ws(&members[i % MEMBERS]).await;
        let received = received.clone();
        readers.push(tokio::spawn(async move {
            while let Some(Ok(_)) = ws.next().await {
                received.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let baseline = quiet_send_p50(&srv).await;

    let stop = Arc::new(AtomicBool::new(false));
    let big = "z".repeat(12_000);
    let mut writers = Vec::new();
    for _ in 0..2 {
        let (srv, stop, big) = (srv.clone(), stop.clone(), big.clone());
        writers.push(tokio::spawn(async move {
            let mut sent = 0u64;
            while !stop.load(Ordering::Relaxed) {
                srv.say("fan0", "group_crowd", &big).await;
                sent += 1;
            }
            sent
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let loaded = quiet_send_p50(&srv).await;
    stop.store(true, Ordering::Relaxed);
    let mut heavy = 0;
    for w in writers {
        heavy += w.await.unwrap();
    }
    println!(
        "quiet send p50: {baseline:?} alone, {loaded:?} during {heavy} sends of 12 KB to {SOCKETS} sockets ({} frames delivered)",
        received.load(Ordering::Relaxed)
    );
    assert!(heavy > 0 && received.load(Ordering::Relaxed) > 0);
    assert!(
        loaded < baseline * 10 + Duration::from_millis(300),
        "quiet sends slowed from {baseline:?} to {loaded:?} by another user's fan-out"
    );
    for r in readers {
        r.abort();
    }
}
