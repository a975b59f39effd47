//! Group membership is checked on every read path: a removed member sees nothing posted after
//! the removal (history, lastMessage, list, get, read, change feed, push), keeps what came before,
//! and sees what follows a re-add.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

async fn set_members(srv: &Srv, members: &[&str]) {
    let (status, body) = srv
        .send_raw(
            srv.client
                .post(format!("{}/dev/groups", srv.url))
                .json(&json!({"groupID": "team", "name": "Team", "members": members})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Every text carol can reach through any read route, as one string to search.
async fn everything_carol_sees(srv: &Srv, cursor: u64) -> String {
    let mut seen = Vec::<Value>::new();
    seen.push(srv.get_as("carol", "/v1/conversations?count=100").await.1);
    seen.push(srv.get_as("carol", "/v1/conversations/group_team").await.1);
    seen.push(
        srv.get_as("carol", "/v1/messages?conversationID=group_team&count=100")
            .await
            .1,
    );
    seen.push(srv.get_as("carol", "/v1/changes?since=0").await.1);
    seen.push(
        srv.get_as("carol", &format!("/v1/changes?since={cursor}"))
            .await
            .1,
    );
    seen.push(srv.get_as("carol", "/v1/changes?since=1").await.1);
    seen.push(
        srv.post_as(
            "carol",
            "/v1/conversations/read",
            json!({"conversationID": "group_team"}),
        )
        .await
        .1,
    );
    serde_json::to_string(&seen).unwrap()
}

/// The frames pushed until 300 ms pass without one, as one string.
async fn frames(ws: &mut Ws) -> String {
    let mut all = Vec::new();
    while let Some(f) = next_frame(ws, Duration::from_millis(300)).await {
        all.push(f);
    }
    serde_json::to_string(&all).unwrap()
}

#[tokio::test]
async fn removed_member_never_sees_what_follows_the_removal() {
    let srv = start(|c| c.dev = true).await;
    set_members(&srv, &["alice", "bob", "carol"]).await;
    srv.say("alice", "group_team", "hello all").await;
    srv.say("carol", "group_team", "hi from carol").await;
    let (_, feed) = srv.get_as("carol", "/v1/changes?since=0").await;
    let cursor = feed["cursor"].as_u64().unwrap();
    let mut carol_ws = srv.ws("carol").await;

    set_members(&srv, &["alice", "bob"]).await;
    srv.say("alice", "group_team", "secret plans").await;
    srv.say("bob", "group_team", "more secrets").await;

    let seen = everything_carol_sees(&srv, cursor).await;
    assert!(!seen.contains("secret"), "carol saw a secret: {seen}");
    // Only her own read mark is pushed to her.
    let pushed = frames(&mut carol_ws).await;
    assert!(!pushed.contains("secret"), "pushed to carol: {pushed}");
    assert!(pushed.contains("conversationUpdated"));
    // What she saw before stays readable, and the conversation shows its last visible message.
    assert_eq!(
        srv.history_texts("carol", "group_team").await,
        ["hi from carol", "hello all"]
    );
    let (_, conv) = srv.get_as("carol", "/v1/conversations/group_team").await;
    assert_eq!(conv["lastMessage"]["text"], "hi from carol");
    let (status, body) = srv
        .post_as(
            "carol",
            "/v1/messages",
            json!({"conversationID": "group_team", "text": "let me in"}),
        )
        .await;
    assert_eq!((status, body["code"].as_u64()), (403, Some(10007)));

    // Re-added, she sees what follows but still not what was posted while she was out.
    set_members(&srv, &["alice", "bob", "carol"]).await;
    srv.say("bob", "group_team", "welcome back").await;
    assert_eq!(
        srv.history_texts("carol", "group_team").await,
        ["welcome back", "hi from carol", "hello all"]
    );
    let pushed = frames(&mut carol_ws).await;
    assert!(pushed.contains("welcome back"), "pushed to carol: {pushed}");
    let seen = everything_carol_sees(&srv, cursor).await;
    assert!(!seen.contains("secret"), "carol saw a secret: {seen}");
    assert!(seen.contains("welcome back"));
    // Paging below the gap skips it.
    let (_, page) = srv
        .get_as(
            "carol",
            "/v1/messages?conversationID=group_team&count=2&beforeSeq=5",
        )
        .await;
    let texts: Vec<_> = page["messageList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["hi from carol", "hello all"]);
    // The others saw everything.
    assert_eq!(srv.history_texts("alice", "group_team").await.len(), 5);
}

#[tokio::test]
async fn a_group_you_never_joined_stays_closed() {
    let srv = start(|c| c.dev = true).await;
    set_members(&srv, &["alice", "bob"]).await;
    srv.say("alice", "group_team", "members only").await;
    let (status, body) = srv
        .get_as("mallory", "/v1/messages?conversationID=group_team&count=10")
        .await;
    assert_eq!((status, body["code"].as_u64()), (403, Some(10007)));
    let (status, _) = srv.get_as("mallory", "/v1/conversations/group_team").await;
    assert_eq!(status, 404);
}
