//! Issue 9 D: an idle WebSocket must cost the server little memory. Alone in its test binary so
//! that nothing else allocates while the process's resident memory is measured.

mod common;
mod raw;

use common::start;
use std::time::Duration;

const SOCKETS: usize = 400;
/// Target: under 48 KB of server memory per idle socket (default buffers cost ~135 KB).
const BUDGET: u64 = 48 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_websocket_costs_under_48_kb() {
    let srv = start(|_| {}).await;
    // Tickets first (16 sockets per user), so the HTTP client's memory is in the baseline.
    let mut tickets = Vec::new();
    for i in 0..SOCKETS {
        tickets.push(srv.ticket(&format!("idle{}", i / 16)).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = raw::rss_bytes();
    let mut sockets = Vec::new();
    for t in &tickets {
        sockets.push(raw::try_ws(&srv.url, t).await.expect("upgrade"));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let per_socket = raw::rss_bytes().saturating_sub(before) / SOCKETS as u64;
    println!("idle WebSocket: {per_socket} bytes of resident memory each ({SOCKETS} sockets)");
    assert!(
        per_socket < BUDGET,
        "an idle socket costs {per_socket} bytes (budget {BUDGET})"
    );
    drop(sockets);
}
