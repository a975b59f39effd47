//! Authentication, isolation between users, dev routes, rate limit, groups, paging, static files.

mod common;

use chat_server::auth::make_user_sig;
use common::*;
use serde_json::json;

#[tokio::test]
async fn auth_failures() {
    let srv = start(|_| {}).await;
    let url = format!("{}/v1/conversations", srv.url);
    let app = srv.config.sdk_app_id;
    let cases = [
        (
            make_user_sig(app, "test-secret", "alice", now_secs() - 1),
            70001,
        ),
        (
            make_user_sig(app, "wrong-secret", "alice", now_secs() + 60),
            70003,
        ),
        (
            make_user_sig(app + 1, "test-secret", "alice", now_secs() + 60),
            70003,
        ),
        ("garbage".to_owned(), 70003),
        ("a.b".to_owned(), 70003),
    ];
    for (sig, code) in cases {
        let (status, body) = srv.send_raw(srv.client.get(&url).bearer_auth(&sig)).await;
        assert_eq!(
            (status, body["code"].as_u64()),
            (401, Some(code)),
            "{sig}: {body}"
        );
    }
    let (status, body) = srv.send_raw(srv.client.get(&url)).await;
    assert_eq!(
        (status, body["code"].as_u64()),
        (401, Some(70003)),
        "{body}"
    );
    // Login must name the sig's own user and app.
    let (status, body) = srv
        .post_as(
            "alice",
            "/v1/login",
            json!({"sdkAppID": app, "userID": "bob"}),
        )
        .await;
    assert_eq!((status, body["code"].as_u64()), (401, Some(70003)));
    let (status, body) = srv
        .post_as(
            "alice",
            "/v1/login",
            json!({"sdkAppID": app + 1, "userID": "alice"}),
        )
        .await;
    assert_eq!((status, body["code"].as_u64()), (401, Some(70003)));
    let (status, body) = srv
        .post_as(
            "alice",
            "/v1/login",
            json!({"sdkAppID": app, "userID": "alice"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userID"], "alice");
    // The WebSocket checks its query parameter before upgrading.
    let (status, body) = srv
        .send_raw(srv.client.get(format!("{}/v1/ws?userSig=bad", srv.url)))
        .await;
    assert_eq!((status, body["code"].as_u64()), (401, Some(70003)));
    // /v1/info needs no auth.
    let (status, body) = srv
        .send_raw(srv.client.get(format!("{}/v1/info", srv.url)))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"sdkAppID": app, "syncConversationDeletion": false, "dev": false})
    );
}

#[tokio::test]
async fn users_cannot_touch_each_others_conversations() {
    let srv = start(|_| {}).await;
    srv.say("alice", "c2c_carol", "secret").await;
    // bob's "c2c_carol" is his own (empty) thread with carol, never alice's.
    let (status, body) = srv.get_as("bob", "/v1/conversations/c2c_carol").await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(2500)));
    assert!(srv.history_texts("bob", "c2c_carol").await.is_empty());
    let res = srv.delete("bob", &["c2c_carol", "c2c_alice"], true).await;
    assert_eq!(res["results"][0]["resultCode"], 2500);
    assert_eq!(res["results"][1]["resultCode"], 2500);
    let (status, _) = srv
        .post_as(
            "bob",
            "/v1/conversations/read",
            json!({"conversationID": "c2c_carol"}),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(srv.list_ids("alice").await, ["c2c_carol"]);
    assert_eq!(srv.history_texts("alice", "c2c_carol").await, ["secret"]);
    assert!(srv.list_ids("bob").await.is_empty());
    // carol sees the conversation from her side, unread 1.
    let (_, conv) = srv.get_as("carol", "/v1/conversations/C2Calice").await;
    assert_eq!(conv["conversationID"], "c2c_alice");
    assert_eq!(conv["unreadCount"], 1);
    assert_eq!(conv["showName"], "alice");
}

#[tokio::test]
async fn dev_routes_only_with_dev() {
    let srv = start(|_| {}).await;
    let (status, body) = srv
        .send_raw(
            srv.client
                .get(format!("{}/dev/usersig?userID=alice", srv.url)),
        )
        .await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(2500)));
    let (status, _) = srv
        .send_raw(
            srv.client
                .post(format!("{}/dev/groups", srv.url))
                .json(&json!({"groupID": "g", "name": "G", "members": ["alice"]})),
        )
        .await;
    assert_eq!(status, 404);

    let dev = start(|c| c.dev = true).await;
    let (status, body) = dev
        .send_raw(
            dev.client
                .get(format!("{}/dev/usersig?userID=alice", dev.url)),
        )
        .await;
    assert_eq!(status, 200);
    let sig = body["userSig"].as_str().unwrap();
    let (status, _) = dev
        .send_raw(
            dev.client
                .get(format!("{}/v1/conversations", dev.url))
                .bearer_auth(sig),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = dev
        .send_raw(
            dev.client
                .get(format!("{}/dev/usersig?userID=a%20b", dev.url)),
        )
        .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(6017)));
}

#[tokio::test]
async fn rate_limit_answers_9506() {
    let srv = start(|c| c.rate_limit = 2).await;
    let mut codes = Vec::new();
    for _ in 0..10 {
        let (status, body) = srv.get_as("alice", "/v1/conversations").await;
        codes.push((status, body["code"].as_u64()));
    }
    assert!(codes[..4].iter().all(|c| c.0 == 200), "{codes:?}");
    assert!(codes.contains(&(429, Some(9506))), "{codes:?}");
    // Other users have their own bucket.
    assert_eq!(srv.get_as("bob", "/v1/conversations").await.0, 200);
}

#[tokio::test]
async fn groups_need_membership() {
    let srv = start(|c| c.dev = true).await;
    let (status, body) = srv
        .send_raw(
            srv.client.post(format!("{}/dev/groups", srv.url)).json(
                &json!({"groupID": "team:1", "name": "The Team", "members": ["alice", "bob"]}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = srv
        .post_as(
            "carol",
            "/v1/messages",
            json!({"conversationID": "group_team:1", "text": "x"}),
        )
        .await;
    assert_eq!((status, body["code"].as_u64()), (403, Some(10007)));
    let (status, _) = srv
        .get_as("carol", "/v1/messages?conversationID=group_team:1")
        .await;
    assert_eq!(status, 403);
    let sent = srv.say("alice", "GROUPteam:1", "hello team").await;
    assert_eq!(sent["conversation"]["conversationID"], "group_team:1");
    assert_eq!(sent["conversation"]["showName"], "The Team");
    assert_eq!(sent["conversation"]["groupID"], "team:1");
    assert_eq!(sent["conversation"]["unreadCount"], 0);
    let (_, conv) = srv.get_as("bob", "/v1/conversations/group_team:1").await;
    assert_eq!(conv["unreadCount"], 1);
    assert_eq!(conv["type"], 2);
    assert!(srv.list_ids("carol").await.is_empty());
    let (status, body) = srv
        .send_raw(
            srv.client
                .post(format!("{}/dev/groups", srv.url))
                .json(&json!({"groupID": "bad group", "name": "x", "members": []})),
        )
        .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(6017)));
    let (status, _) = srv
        .send_raw(
            srv.client
                .post(format!("{}/dev/groups", srv.url))
                .json(&json!({"groupID": "g2", "name": "x", "members": ["<script>"]})),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn list_pages_by_order_key() {
    let srv = start(|_| {}).await;
    for peer in ["p1", "p2", "p3", "p4", "p5"] {
        srv.say("alice", &format!("c2c_{peer}"), "hi").await;
    }
    let mut seen = Vec::new();
    let mut next = 0;
    loop {
        let (status, page) = srv
            .get_as(
                "alice",
                &format!("/v1/conversations?count=2&nextSeq={next}"),
            )
            .await;
        assert_eq!(status, 200, "{page}");
        for c in page["conversationList"].as_array().unwrap() {
            seen.push(c["conversationID"].as_str().unwrap().to_owned());
        }
        next = page["nextSeq"].as_u64().unwrap();
        if page["isFinished"].as_bool().unwrap() {
            break;
        }
    }
    assert_eq!(seen, ["c2c_p5", "c2c_p4", "c2c_p3", "c2c_p2", "c2c_p1"]);
    // Sending to yourself is rejected (documented choice).
    let (status, body) = srv
        .post_as(
            "alice",
            "/v1/messages",
            json!({"conversationID": "c2c_alice", "text": "me"}),
        )
        .await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(6017)));
}

#[tokio::test]
async fn serves_static_files_and_survives_missing_dirs() {
    let dir = std::env::temp_dir().join(format!("chat-server-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("pkg/chat_sdk_bg.wasm"), b"\0asm").unwrap();
    let pkg = dir.join("pkg");
    let srv = start(|c| {
        c.pkg = pkg;
        c.www = "/nonexistent-www".into();
    })
    .await;
    let resp = srv
        .client
        .get(format!("{}/pkg/chat_sdk_bg.wasm", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/wasm");
    let resp = srv
        .client
        .get(format!("{}/index.html", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn cors_allows_listed_and_dev_local_origins() {
    let srv = start(|c| {
        c.dev = true;
        c.allow_origins = vec!["https://app.example".into()];
    })
    .await;
    for (origin, allowed) in [
        ("https://app.example", true),
        ("http://localhost:5173", true),
        ("http://127.0.0.1:9", true),
        ("http://localhost.evil.example", false),
        ("https://evil.example", false),
    ] {
        let resp = srv
            .client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/v1/conversations", srv.url),
            )
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
            .await
            .unwrap();
        let got = resp.headers().get("access-control-allow-origin").is_some();
        assert_eq!(got, allowed, "{origin}");
    }
}
