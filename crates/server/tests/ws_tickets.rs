//! WebSocket authentication without credentials in the URL, and the per-user socket cap.

mod common;
mod raw;

use common::{next_frame, start, WAIT};
use serde_json::Value;

#[tokio::test]
async fn websocket_opens_with_a_single_use_ticket_only() {
    let srv = start(|_| {}).await;
    // A userSig in the URL is no longer accepted.
    let ws_url = format!("{}/v1/ws?userSig={}", srv.url, srv.sig("alice"));
    let (status, body) = srv.send_raw(srv.client.get(ws_url)).await;
    assert_eq!(
        (status, body["code"].as_u64()),
        (401, Some(70003)),
        "{body}"
    );
    // A ticket needs the bearer userSig.
    let (status, body) = srv
        .send_raw(srv.client.post(format!("{}/v1/ws-ticket", srv.url)))
        .await;
    assert_eq!(
        (status, body["code"].as_u64()),
        (401, Some(70003)),
        "{body}"
    );
    // A ticket opens one socket, which then receives pushes.
    let ticket = srv.ticket("alice").await;
    assert!(!ticket.contains(&srv.sig("alice")));
    assert!(raw::try_ws(&srv.url, &ticket).await.is_ok());
    // Used once: the same ticket is refused.
    let again = raw::try_ws(&srv.url, &ticket).await.map(|_| ());
    assert_eq!(again.unwrap_err(), "HTTP/1.1 401 Unauthorized");
    let mut socket = srv.ws("alice").await;
    srv.say("bob", "c2c_alice", "hi").await;
    let frame: Value = next_frame(&mut socket, WAIT)
        .await
        .expect("a pushed change");
    assert_eq!(frame["kind"], "conversationUpdated", "{frame}");
}

#[tokio::test]
async fn a_user_has_at_most_16_sockets() {
    let srv = start(|_| {}).await;
    let mut open = Vec::new();
    for _ in 0..16 {
        let ticket = srv.ticket("alice").await;
        open.push(raw::try_ws(&srv.url, &ticket).await.expect("under the cap"));
    }
    let ticket = srv.ticket("alice").await;
    let refused = raw::try_ws(&srv.url, &ticket).await.map(|_| ());
    assert_eq!(refused.unwrap_err(), "HTTP/1.1 429 Too Many Requests");
    // Another user is not affected, and a closed socket frees its place.
    let ticket = srv.ticket("bob").await;
    assert!(raw::try_ws(&srv.url, &ticket).await.is_ok());
    drop(open.pop());
    let mut reopened = false;
    for _ in 0..50 {
        let ticket = srv.ticket("alice").await;
        if raw::try_ws(&srv.url, &ticket).await.is_ok() {
            reopened = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(reopened, "a closed socket must free its place");
}
