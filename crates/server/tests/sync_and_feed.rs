//! Push over WebSocket, the change feed, deletion semantics and concurrency.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn deletion_is_pushed_to_other_sockets_only_with_sync() {
    let srv = start(|c| c.sync_conversation_deletion = true).await;
    srv.say("bob", "c2c_alice", "hi").await;
    let mut tab2 = srv.ws("alice").await;
    srv.delete("alice", &["c2c_bob"], false).await;
    let frame = next_frame(&mut tab2, WAIT).await.expect("deletion pushed");
    assert_eq!(frame["kind"], "conversationDeleted");
    assert_eq!(frame["conversationID"], "c2c_bob");
    assert_eq!(frame["uptoSeq"], 1);
    assert_eq!(frame["clearMessage"], false);

    let srv = start(|_| {}).await;
    srv.say("bob", "c2c_alice", "hi").await;
    let mut tab2 = srv.ws("alice").await;
    srv.delete("alice", &["c2c_bob"], true).await;
    // The next frame is the later message, not the deletion.
    srv.say("bob", "c2c_alice", "again").await;
    let frame = next_frame(&mut tab2, WAIT).await.expect("update pushed");
    assert_eq!(frame["kind"], "conversationUpdated", "{frame}");
    assert_eq!(frame["message"]["text"], "again");
    // The feed still has the deletion.
    let (_, feed) = srv.get_as("alice", "/v1/changes?since=1").await;
    let kinds: Vec<_> = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["conversationDeleted", "conversationUpdated"]);
    assert_eq!(feed["changes"][0]["clearMessage"], true);
}

#[tokio::test]
async fn pushes_follow_feed_order_for_every_socket() {
    let srv = start(|_| {}).await;
    let mut a1 = srv.ws("alice").await;
    let mut a2 = srv.ws("alice").await;
    for i in 0..5 {
        srv.say("bob", "c2c_alice", &format!("m{i}")).await;
    }
    for ws in [&mut a1, &mut a2] {
        for i in 0..5u64 {
            let f = next_frame(ws, WAIT).await.unwrap();
            assert_eq!(f["seq"], i + 1);
            assert_eq!(f["message"]["text"], format!("m{i}"));
            assert_eq!(f["conversation"]["conversationID"], "c2c_bob");
            assert_eq!(f["conversation"]["unreadCount"], i + 1);
        }
    }
}

#[tokio::test]
async fn deleted_conversation_reappears_after_a_new_message() {
    let srv = start(|_| {}).await;
    srv.say("bob", "c2c_alice", "one").await;
    srv.say("bob", "c2c_alice", "two").await;
    srv.delete("alice", &["c2c_bob"], false).await;
    assert!(srv.list_ids("alice").await.is_empty());
    assert_eq!(
        srv.list_ids("bob").await,
        ["c2c_alice"],
        "others unaffected"
    );
    srv.say("bob", "c2c_alice", "three").await;
    assert_eq!(srv.list_ids("alice").await, ["c2c_bob"]);
    let (_, conv) = srv.get_as("alice", "/v1/conversations/c2c_bob").await;
    assert_eq!(conv["unreadCount"], 1);
    assert_eq!(conv["lastMessage"]["text"], "three");
    // Kept history stays visible.
    assert_eq!(
        srv.history_texts("alice", "c2c_bob").await,
        ["three", "two", "one"]
    );
}

#[tokio::test]
async fn clear_hides_history_and_keep_does_not() {
    let srv = start(|_| {}).await;
    srv.say("alice", "c2c_bob", "old1").await;
    srv.say("bob", "c2c_alice", "old2").await;
    let res = srv.delete("alice", &["c2c_bob"], true).await;
    assert_eq!(res["results"][0]["uptoSeq"], 2);
    assert!(srv.history_texts("alice", "c2c_bob").await.is_empty());
    srv.say("bob", "c2c_alice", "new").await;
    assert_eq!(srv.history_texts("alice", "c2c_bob").await, ["new"]);
    assert_eq!(
        srv.history_texts("bob", "c2c_alice").await,
        ["new", "old2", "old1"]
    );
    // beforeSeq pages below a seq.
    let (_, page) = srv
        .get_as(
            "bob",
            "/v1/messages?conversationID=c2c_alice&count=1&beforeSeq=3",
        )
        .await;
    assert_eq!(page["messageList"][0]["text"], "old2");

    srv.delete("bob", &["c2c_alice"], false).await;
    srv.say("alice", "c2c_bob", "back").await;
    assert_eq!(
        srv.history_texts("bob", "c2c_alice").await,
        ["back", "new", "old2", "old1"]
    );
}

#[tokio::test]
async fn feed_catches_up_after_a_disconnect() {
    let srv = start(|_| {}).await;
    let mut ws = srv.ws("alice").await;
    srv.say("bob", "c2c_alice", "live").await;
    let first = next_frame(&mut ws, WAIT).await.unwrap();
    let cursor = first["seq"].as_u64().unwrap();
    drop(ws);
    srv.say("carol", "c2c_alice", "missed1").await;
    let (status, read) = srv
        .post_as(
            "alice",
            "/v1/conversations/read",
            json!({"conversationID": "c2c_bob"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(read["conversation"]["unreadCount"], 0);
    assert_eq!(
        read["feedSeq"],
        cursor + 2,
        "the read mark's own feed entry"
    );
    let deleted = srv.delete("alice", &["c2c_carol"], false).await;
    assert_eq!(deleted["results"][0]["feedSeq"], cursor + 3);

    let (_, feed) = srv
        .get_as("alice", &format!("/v1/changes?since={cursor}"))
        .await;
    assert_eq!(feed["reset"], false);
    assert_eq!(feed["cursor"], cursor + 3);
    assert_eq!(feed["hasMore"], false);
    let changes = feed["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 3);
    assert_eq!(changes[0]["message"]["text"], "missed1");
    assert_eq!(changes[1]["kind"], "conversationUpdated");
    assert_eq!(changes[1]["conversation"]["unreadCount"], 0);
    assert!(changes[1].get("message").is_none());
    assert_eq!(changes[2]["kind"], "conversationDeleted");

    // Up to date: empty, not a reset.
    let (_, feed) = srv
        .get_as("alice", &format!("/v1/changes?since={}", cursor + 3))
        .await;
    assert_eq!(
        (
            feed["reset"].as_bool(),
            feed["changes"].as_array().unwrap().len()
        ),
        (Some(false), 0)
    );
    // since=0 and an unknown future cursor are resets with every live conversation.
    for since in [0, cursor + 100] {
        let (_, feed) = srv
            .get_as("alice", &format!("/v1/changes?since={since}"))
            .await;
        assert_eq!(feed["reset"], true);
        assert_eq!(feed["cursor"], cursor + 3);
        let ids: Vec<_> = feed["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["conversationID"].clone())
            .collect();
        assert_eq!(ids, [json!("c2c_bob")]);
    }
}

#[tokio::test]
async fn concurrent_deletes_of_one_conversation() {
    let srv = start(|_| {}).await;
    for round in 0..5 {
        srv.say("bob", "c2c_alice", &format!("r{round}")).await;
        let (a, b) = tokio::join!(
            srv.delete("alice", &["c2c_bob"], round % 2 == 0),
            srv.delete("alice", &["C2Cbob"], false)
        );
        let mut codes = [
            a["results"][0]["resultCode"].as_u64().unwrap(),
            b["results"][0]["resultCode"].as_u64().unwrap(),
        ];
        codes.sort();
        assert_eq!(codes, [0, 2500], "round {round}");
    }
    let (_, feed) = srv.get_as("alice", "/v1/changes?since=1").await;
    let deletions = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "conversationDeleted")
        .count();
    assert_eq!(deletions, 5);
}

#[tokio::test]
async fn delete_batch_collapses_duplicates_and_reports_each_item() {
    let srv = start(|_| {}).await;
    srv.say("bob", "c2c_alice", "x").await;
    let res = srv
        .delete(
            "alice",
            &["C2Cbob", "c2c_bob", "c2c_../..", "c2c_nobody", "C2Cbob"],
            false,
        )
        .await;
    let results = res["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(
        results[0],
        json!({"conversationID": "C2Cbob", "resultCode": 0, "resultInfo": "", "uptoSeq": 1, "feedSeq": 2})
    );
    assert_eq!(results[1]["conversationID"], "c2c_../..");
    assert_eq!(results[1]["resultCode"], 6017);
    assert!(results[1]["resultInfo"]
        .as_str()
        .unwrap()
        .contains("c2c_../.."));
    assert_eq!(results[2]["resultCode"], 2500);
}

#[tokio::test]
async fn shutdown_keeps_committed_writes() {
    let path = std::env::temp_dir().join(format!("chat-server-shutdown-{}.db", std::process::id()));
    let db = path.to_str().unwrap().to_owned();
    let srv = start(|c| c.db = db.clone()).await;
    let mut ws = srv.ws("alice").await;
    srv.say("bob", "c2c_alice", "persisted").await;
    srv.handle.shutdown().await;
    // The socket is closed by the shutdown.
    let _ = next_frame(&mut ws, Duration::from_millis(200)).await;
    let srv = start(|c| c.db = db.clone()).await;
    assert_eq!(srv.history_texts("alice", "c2c_bob").await, ["persisted"]);
    srv.handle.shutdown().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{db}{suffix}"));
    }
}
