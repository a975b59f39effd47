//! Every `/v1/changes` reply is bounded (reset pages, a byte budget for incremental replies), so
//! are history and conversation-list pages (a byte budget, then "more"), the feed stores messages
//! by reference, writes report their own feed seq, and `/dev/seed` seeds demo conversations.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const PAGE: usize = chat_core::wire::MAX_RESET_PAGE;
/// What a reply may weigh: the 2 MiB budget plus one item over it.
const MAX_REPLY: usize = 3 << 20;

async fn seed(srv: &Srv, user: &str, peers: u32, each: u32) -> (u16, Value) {
    srv.send_raw(
        srv.client
            .post(format!("{}/dev/seed", srv.url))
            .json(&json!({"userID": user, "peers": peers, "messagesEach": each})),
    )
    .await
}

async fn get_sized(srv: &Srv, user: &str, path: &str) -> (usize, Value) {
    let resp = srv
        .client
        .get(format!("{}{path}", srv.url))
        .bearer_auth(srv.sig(user))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    (text.len(), serde_json::from_str(&text).unwrap())
}

async fn changes(srv: &Srv, user: &str, query: &str) -> (usize, Value) {
    get_sized(srv, user, &format!("/v1/changes?{query}")).await
}

#[tokio::test]
async fn seed_route_creates_conversations_and_checks_its_input() {
    let srv = start(|c| c.dev = true).await;
    let (status, body) = seed(&srv, "alice", 3, 4).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"conversations": 3, "messages": 12}));
    assert_eq!(srv.list_ids("alice").await.len(), 3);
    assert_eq!(srv.history_texts("alice", "c2c_peer2").await.len(), 4);
    let (_, conv) = srv.get_as("alice", "/v1/conversations/c2c_peer1").await;
    assert_eq!(conv["unreadCount"], 2, "the peer wrote every other message");
    for bad in [
        json!({"userID": "alice", "peers": 0, "messagesEach": 1}),
        json!({"userID": "alice", "peers": 501, "messagesEach": 1}),
        json!({"userID": "alice", "peers": 1, "messagesEach": 101}),
        json!({"userID": "a b", "peers": 1, "messagesEach": 1}),
    ] {
        let (status, body) = srv
            .send_raw(srv.client.post(format!("{}/dev/seed", srv.url)).json(&bad))
            .await;
        assert_eq!((status, body["code"].as_u64()), (400, Some(6017)), "{bad}");
    }
    let prod = start(|_| {}).await;
    assert_eq!(seed(&prod, "alice", 1, 1).await.0, 404);
}

#[tokio::test]
async fn reset_pages_are_bounded_and_together_complete() {
    let srv = start(|c| c.dev = true).await;
    let (status, _) = seed(&srv, "alice", 450, 1).await;
    assert_eq!(status, 200);
    let mut ids = Vec::new();
    let mut query = "since=0".to_owned();
    let mut pages = 0;
    loop {
        let (bytes, page) = changes(&srv, "alice", &query).await;
        pages += 1;
        assert!(bytes < MAX_REPLY);
        assert_eq!(page["reset"], true);
        assert_eq!(page["cursor"], 450, "newest feed seq");
        let convs = page["conversations"].as_array().unwrap();
        assert!(!convs.is_empty() && convs.len() <= PAGE, "{}", convs.len());
        ids.extend(
            convs
                .iter()
                .map(|c| c["conversationID"].as_str().unwrap().to_owned()),
        );
        if page["hasMore"] != true {
            assert!(page.get("nextAfter").is_none());
            break;
        }
        assert_eq!(page["nextAfter"], json!(ids.last().unwrap()));
        query = format!("since=0&after={}", ids.last().unwrap());
    }
    assert_eq!(pages, 3);
    let sorted: Vec<_> = ids
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(ids, sorted, "ordered by conversationID, no duplicates");
    assert_eq!(ids.len(), 450);
    // A bad `after` is refused like any bad conversation ID.
    let (status, body) = srv.get_as("alice", "/v1/changes?since=0&after=nope").await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(6017)));
}

#[tokio::test]
async fn incremental_replies_stop_at_a_byte_budget() {
    let srv = start(|c| c.dev = true).await;
    let big = "x".repeat(12_000);
    let first = srv.say("bob", "c2c_alice", "start").await;
    assert_eq!(first["feedSeq"], 1, "bob's own entry");
    for _ in 0..300 {
        srv.say("bob", "c2c_alice", &big).await;
    }
    let mut cursor = 1;
    let mut got = 0;
    let mut replies = 0;
    loop {
        let (bytes, reply) = changes(&srv, "alice", &format!("since={cursor}")).await;
        replies += 1;
        assert!(bytes < MAX_REPLY, "reply of {bytes} bytes");
        let list = reply["changes"].as_array().unwrap();
        assert!(!list.is_empty());
        for (i, c) in list.iter().enumerate() {
            assert_eq!(c["seq"], cursor + 1 + i as u64);
            assert_eq!(c["message"]["text"].as_str().unwrap().len(), 12_000);
            assert_eq!(c["conversation"]["lastMessage"]["seq"], c["message"]["seq"]);
        }
        got += list.len();
        cursor = reply["cursor"].as_u64().unwrap();
        if reply["hasMore"] != true {
            break;
        }
    }
    assert_eq!(got, 300);
    assert!(replies >= 3, "{replies} replies");
}

/// 12,000 bytes that JSON writes as `\u0001` each: 72 KB per message in a reply.
fn heavy_text() -> String {
    "\u{1}".repeat(12_000)
}

#[tokio::test]
async fn history_pages_stop_at_a_byte_budget_and_say_there_is_more() {
    let srv = start(|_| {}).await;
    let text = heavy_text();
    for _ in 0..100 {
        srv.say("bob", "c2c_alice", &text).await;
    }
    let mut seqs = Vec::new();
    let mut query = String::new();
    let mut pages = 0;
    loop {
        let path = format!("/v1/messages?conversationID=c2c_bob&count=100{query}");
        let (bytes, page) = get_sized(&srv, "alice", &path).await;
        pages += 1;
        assert!(bytes < MAX_REPLY, "history reply of {bytes} bytes");
        let list = page["messageList"].as_array().unwrap();
        assert!(!list.is_empty());
        seqs.extend(list.iter().map(|m| m["seq"].as_u64().unwrap()));
        if page["hasMore"] != true {
            break;
        }
        assert!(list.len() < 100, "only a page cut by bytes says hasMore");
        query = format!("&beforeSeq={}", seqs.last().unwrap());
    }
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(
        seqs,
        (1..=100).rev().collect::<Vec<u64>>(),
        "all, newest first"
    );
    // Small messages: one full page, no hasMore.
    srv.say("carol", "c2c_dave", "hi").await;
    let (_, page) = get_sized(&srv, "dave", "/v1/messages?conversationID=c2c_carol").await;
    assert_eq!(page["messageList"].as_array().unwrap().len(), 1);
    assert_eq!(page["hasMore"], false);
}

#[tokio::test]
async fn conversation_list_pages_stop_at_a_byte_budget_and_are_not_finished() {
    let srv = start(|_| {}).await;
    let text = heavy_text();
    for i in 0..100 {
        srv.say("alice", &format!("c2c_p{i:03}"), &text).await;
    }
    let mut ids = Vec::new();
    let mut next = 0u64;
    let mut pages = 0;
    loop {
        let path = format!("/v1/conversations?count=100&nextSeq={next}");
        let (bytes, page) = get_sized(&srv, "alice", &path).await;
        pages += 1;
        assert!(bytes < MAX_REPLY, "list reply of {bytes} bytes");
        let list = page["conversationList"].as_array().unwrap();
        assert!(!list.is_empty());
        ids.extend(
            list.iter()
                .map(|c| c["conversationID"].as_str().unwrap().to_owned()),
        );
        if page["isFinished"] == true {
            break;
        }
        next = page["nextSeq"].as_u64().unwrap();
        assert_eq!(next, list.last().unwrap()["orderKey"].as_u64().unwrap());
    }
    assert!(pages >= 3, "{pages} pages");
    let expected: Vec<String> = (0..100).rev().map(|i| format!("c2c_p{i:03}")).collect();
    assert_eq!(ids, expected, "all, newest first, none twice");
}

#[tokio::test]
async fn feed_stores_messages_once() {
    let dir = std::env::temp_dir().join(format!("chat-disk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("chat.db");
    let db_str = db.to_str().unwrap().to_owned();
    let srv = start(|c| {
        c.dev = true;
        c.db = db_str.clone();
    })
    .await;
    let members: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    let (status, _) = srv
        .send_raw(
            srv.client
                .post(format!("{}/dev/groups", srv.url))
                .json(&json!({"groupID": "big", "name": "Big", "members": members})),
        )
        .await;
    assert_eq!(status, 200);
    let text = "y".repeat(12_000);
    const N: u64 = 50;
    for _ in 0..N {
        srv.say("m0", "group_big", &text).await;
        srv.say("m1", "c2c_m2", &text).await;
    }
    srv.handle.shutdown().await;
    let bytes: u64 = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    std::fs::remove_dir_all(&dir).unwrap();
    let per_message = bytes / (2 * N);
    println!("bytes on disk per 12,000-byte message (10-member group + C2C): {per_message}");
    assert!(per_message < 20_000, "{per_message} bytes per message");
}
