//! Issue 9: one client cannot hurt the others. Each test drives the abuse over real sockets and
//! fails on a server without the matching bound (B slow reader, C ping flood, E fan-out, G
//! timeouts and shutdown deadline, H `{code, message}` for every API error).

mod common;
mod raw;

use common::start;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// B: a socket that never reads is closed once its queue overflows or a send passes the
/// deadline, instead of holding every queued frame (1,500 pushes of 12,000 bytes: 18 MB).
#[tokio::test]
async fn a_websocket_that_never_reads_is_dropped() {
    let srv = start(|c| c.ws.send_timeout = Duration::from_secs(2)).await;
    let ticket = srv.ticket("slow").await;
    let mut slow = raw::try_ws(&srv.url, &ticket).await.unwrap();
    let text = "x".repeat(12_000);
    for _ in 0..1_500 {
        srv.say("fast", "c2c_slow", &text).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Only what the kernel buffers held (a few MB) arrives, then the connection ends.
    let received = raw::drain_until_closed(&mut slow, Duration::from_secs(20))
        .await
        .expect("the server must close a socket that does not keep up");
    assert!(
        received < 8 << 20,
        "{received} bytes still delivered to a stalled socket"
    );
    // The other users still work.
    srv.say("fast", "c2c_other", "still fine").await;
}

/// C: a ping flood without reading the pongs is cut off instead of queueing pongs.
#[tokio::test]
async fn a_ping_flood_is_cut_off() {
    let srv = start(|_| {}).await;
    let ticket = srv.ticket("flood").await;
    let mut ws = raw::try_ws(&srv.url, &ticket).await.unwrap();
    let burst: Vec<u8> = raw::ping_frame().repeat(1_000);
    let started = Instant::now();
    let mut sent = 0usize;
    let cut = loop {
        if sent >= 2_000_000 || started.elapsed() > Duration::from_secs(30) {
            break false;
        }
        match tokio::time::timeout(Duration::from_secs(5), ws.write_all(&burst)).await {
            Ok(Ok(())) => sent += 1_000,
            // Write error (reset by the server) or the server stopped reading.
            Ok(Err(_)) | Err(_) => break true,
        }
    };
    assert!(cut, "the server accepted {sent} pings without closing");
    assert!(sent < 200_000, "{sent} pings accepted before the cut");
}

/// E: one user's many sockets cannot slow down everyone: a user has at most 16 sockets, and
/// a frame is encoded once for all of them, so other users' requests stay fast while that user
/// receives 12 KB messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_users_fan_out_does_not_slow_the_others() {
    let srv = start(|_| {}).await;
    let mut crowd = Vec::new();
    for _ in 0..200 {
        let ticket = srv.ticket("crowd").await;
        if let Ok(s) = raw::try_ws(&srv.url, &ticket).await {
            crowd.push(s);
        }
    }
    assert_eq!(crowd.len(), 16, "sockets accepted for one user");
    // Every crowd socket reads (and discards) what it gets.
    let readers: Vec<_> = crowd
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
            })
        })
        .collect();
    let baseline = other_users_p50(&srv).await;
    let pusher = {
        let (url, client, sig) = (srv.url.clone(), srv.client.clone(), srv.sig("pusher"));
        tokio::spawn(async move {
            let body =
                serde_json::json!({"conversationID": "c2c_crowd", "text": "y".repeat(12_000)});
            for _ in 0..300 {
                let _ = client
                    .post(format!("{url}/v1/messages"))
                    .bearer_auth(&sig)
                    .json(&body)
                    .send()
                    .await;
            }
        })
    };
    let loaded = other_users_p50(&srv).await;
    pusher.abort();
    for r in readers {
        r.abort();
    }
    println!("other users' send p50: {baseline:?} alone, {loaded:?} during the fan-out");
    assert!(
        loaded < baseline * 10 + Duration::from_millis(20),
        "p50 {loaded:?} under fan-out vs {baseline:?}"
    );
}

async fn other_users_p50(srv: &common::Srv) -> Duration {
    let mut times = Vec::new();
    for i in 0..40 {
        let started = Instant::now();
        srv.say("bob", &format!("c2c_carol{}", i % 4), "hello")
            .await;
        times.push(started.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

/// G: half a request line, or an idle connection, is closed after the header timeout.
#[tokio::test]
async fn slow_or_idle_connections_time_out() {
    let srv = start(|c| c.timeouts.header = Duration::from_secs(1)).await;
    let mut half = raw::connect(&srv.url).await;
    half.write_all(b"GET /v1/info HT").await.unwrap();
    let mut idle = raw::connect(&srv.url).await;
    for s in [&mut half, &mut idle] {
        assert!(
            raw::drain_until_closed(s, Duration::from_secs(5))
                .await
                .is_some(),
            "connection still open after the header timeout"
        );
    }
    // A kept-alive connection idles out too.
    let mut kept = raw::connect(&srv.url).await;
    kept.write_all(b"GET /v1/info HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(raw::read_head(&mut kept).await.starts_with("HTTP/1.1 200"));
    assert!(raw::drain_until_closed(&mut kept, Duration::from_secs(5))
        .await
        .is_some());
}

/// G: a body shorter than its Content-Length is answered when the body deadline passes.
#[tokio::test]
async fn a_short_body_is_answered_after_the_deadline() {
    let srv = start(|c| c.timeouts.body = Duration::from_secs(1)).await;
    let mut s = raw::connect(&srv.url).await;
    let head = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{}}",
        srv.sig("alice")
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(5), async {
        let head = raw::read_head(&mut s).await;
        let mut body = vec![0u8; 512];
        let n = s.read(&mut body).await.unwrap_or(0);
        (head, String::from_utf8_lossy(&body[..n]).into_owned())
    })
    .await
    .expect("no answer to a request whose body never completes");
    assert!(answer.0.starts_with("HTTP/1.1 408"), "{}", answer.0);
    let body: Value = serde_json::from_str(&answer.1).unwrap();
    assert_eq!(body["code"], 9520, "{body}");
    // `Content-Length: 999999999` is refused at once.
    let mut s = raw::connect(&srv.url).await;
    let head = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{{}}",
        srv.sig("alice")
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let head = tokio::time::timeout(Duration::from_secs(5), raw::read_head(&mut s))
        .await
        .unwrap();
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
}

/// G: shutdown finishes within its deadline even with a request stuck mid-body, and keeps
/// what was committed.
#[tokio::test]
async fn shutdown_has_a_deadline_and_keeps_committed_data() {
    let db = std::env::temp_dir().join(format!("chat-shutdown-{}.db", std::process::id()));
    let path = db.to_str().unwrap().to_owned();
    let srv = start(|c| {
        c.db = path.clone();
        c.timeouts.shutdown = Duration::from_secs(1);
        c.timeouts.body = Duration::from_secs(600);
        c.timeouts.header = Duration::from_secs(600);
    })
    .await;
    srv.say("alice", "c2c_bob", "kept").await;
    let mut stuck = raw::connect(&srv.url).await;
    let head = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        srv.sig("alice")
    );
    stuck.write_all(head.as_bytes()).await.unwrap();
    let mut half = raw::connect(&srv.url).await;
    half.write_all(b"GET /v1/info HT").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), srv.handle.shutdown())
        .await
        .expect("shutdown must finish within its deadline");
    assert!(started.elapsed() < Duration::from_secs(4));
    let srv = start(|c| c.db = path.clone()).await;
    assert_eq!(srv.history_texts("bob", "c2c_alice").await, ["kept"]);
    srv.handle.shutdown().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
}

/// H: every error under /v1 and /dev has the `{code, message}` body.
#[tokio::test]
async fn every_api_error_has_a_code_and_message() {
    let srv = start(|_| {}).await;
    let cases = [
        ("DELETE", "/v1/conversations", 405, 6017),
        ("PUT", "/v1/messages", 405, 6017),
        ("GET", "/v1/ws-ticket", 405, 6017),
        ("GET", "/v1", 404, 2500),
        ("GET", "/v1/", 404, 2500),
        ("GET", "/dev", 404, 2500),
        ("GET", "/dev/", 404, 2500),
        ("GET", "/dev/usersig", 404, 2500),
        ("GET", "/v1/%00", 404, 2500),
    ];
    for (method, path, status, code) in cases {
        let req = srv
            .client
            .request(method.parse().unwrap(), format!("{}{path}", srv.url));
        let (got, body) = srv.send_raw(req.bearer_auth(srv.sig("alice"))).await;
        assert_eq!(
            (got, body["code"].as_u64()),
            (status, Some(code)),
            "{method} {path}: {body}"
        );
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
    // HEAD carries no body, but says JSON and keeps the status.
    for path in ["/dev/x", "/v1", "/v1/%00"] {
        let resp = srv
            .client
            .head(format!("{}{path}", srv.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404, "HEAD {path}");
        assert_eq!(
            resp.headers()["content-type"],
            "application/json",
            "HEAD {path}"
        );
    }
    // Too large.
    let big = serde_json::json!({"conversationID": "c2c_bob", "text": "z".repeat(200_000)});
    let (status, body) = srv.post_as("alice", "/v1/messages", big).await;
    assert_eq!((status, body["code"].as_u64()), (413, Some(6017)), "{body}");
}
