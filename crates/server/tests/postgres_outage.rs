//! PostgreSQL unreachable for a few seconds (runs when CHAT_TEST_POSTGRES is set): requests fail
//! fast with 9530 instead of hanging past the SDK's 10 s timeout, and the server recovers by
//! itself, pushes included. The outage is a loopback proxy in front of the test cluster that
//! cuts every connection and refuses new ones, so other tests sharing the cluster are unaffected.

mod common;

use common::{next_frame, start, test_db, test_postgres, WAIT};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

struct Proxy {
    port: u16,
    down: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (d, c) = (down.clone(), conns.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    continue; // dropped: connection refused by the "database"
                }
                let target = target.clone();
                c.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Proxy {
            port,
            down,
            conns,
            accept,
        }
    }

    /// Cuts every open connection and refuses new ones.
    fn stop_database(&self) {
        self.down.store(true, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn restart_database(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop_database();
        self.accept.abort();
    }
}

#[tokio::test]
async fn an_unreachable_database_answers_9530_fast_and_the_server_recovers() {
    if test_postgres().is_none() {
        eprintln!("CHAT_TEST_POSTGRES is not set: nothing to test on SQLite");
        return;
    }
    // A fresh database, reached through the proxy.
    let url = test_db(":memory:").await;
    let (head, name) = url.rsplit_once('/').unwrap();
    let target = head.rsplit_once('@').unwrap().1.to_owned();
    let proxy = Proxy::start(target.clone()).await;
    let via_proxy = format!(
        "{}@127.0.0.1:{}/{name}",
        head.rsplit_once('@').unwrap().0,
        proxy.port
    );
    let srv = start(|c| c.db = via_proxy.clone()).await;
    srv.say("bob", "c2c_alice", "before").await;

    proxy.stop_database();
    for _ in 0..3 {
        let t0 = Instant::now();
        let (status, body) = srv
            .post_as(
                "bob",
                "/v1/messages",
                json!({"conversationID": "c2c_alice", "text": "during"}),
            )
            .await;
        let took = t0.elapsed();
        eprintln!("database down: 9530 after {took:?}");
        assert_eq!(body["code"], 9530, "{status} {body}");
        assert!(took < Duration::from_secs(8), "answered after {took:?}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    proxy.restart_database();

    // Back by itself: requests succeed again, and pushes flow (the listener reconnected).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _) = srv.get_as("alice", "/v1/conversations").await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "not recovered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut ws = srv.ws("alice").await;
    // Sockets opened before the listener is back are closed for a resync: retry until one stays.
    let mut pushed = None;
    while pushed.is_none() && Instant::now() < deadline {
        srv.say("bob", "c2c_alice", "after").await;
        pushed = next_frame(&mut ws, WAIT).await;
        if pushed.is_none() {
            ws = srv.ws("alice").await;
        }
    }
    let frame = pushed.expect("a push after recovery");
    assert_eq!(frame["message"]["text"], "after");
    assert_eq!(srv.history_texts("alice", "c2c_bob").await[0], "after");
}
