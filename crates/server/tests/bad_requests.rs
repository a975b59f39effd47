//! A table of malformed or hostile requests: each gets its documented code and changes nothing.

mod common;

use common::*;
use serde_json::{json, Value};

enum Body {
    None,
    Json(Value),
    Raw(&'static str, String),
}

async fn snapshot(srv: &Srv) -> Value {
    let mut out = Vec::new();
    for user in ["alice", "bob"] {
        out.push(srv.get_as(user, "/v1/conversations?count=100").await.1);
        out.push(srv.get_as(user, "/v1/changes?since=0").await.1);
    }
    out.push(
        srv.get_as("alice", "/v1/messages?conversationID=c2c_bob&count=100")
            .await
            .1,
    );
    Value::Array(out)
}

#[tokio::test]
async fn bad_requests_fail_cleanly_and_change_nothing() {
    let srv = start(|_| {}).await;
    srv.say("alice", "c2c_bob", "one").await;
    srv.say("bob", "c2c_alice", "two").await;
    srv.say("carol", "c2c_alice", "three").await;
    let before = snapshot(&srv).await;

    let long = "a".repeat(5000);
    let many: Vec<String> = (0..101).map(|_| "c2c_bob".to_owned()).collect();
    let big_text = "x".repeat(12_001);
    let huge = format!(
        r#"{{"conversationID":"c2c_bob","text":"{}"}}"#,
        "y".repeat(200_000)
    );
    let send = "/v1/messages";
    let del = "/v1/conversations/delete";
    let read = "/v1/conversations/read";
    let cases: Vec<(&str, String, Body, u16, u64)> = vec![
        (
            "POST",
            send.into(),
            Body::Json(json!({"conversationID": 5, "text": "x"})),
            400,
            6017,
        ),
        (
            "POST",
            send.into(),
            Body::Json(json!({"conversationID": "c2c_bob"})),
            400,
            6017,
        ),
        (
            "POST",
            send.into(),
            Body::Json(json!({"conversationID": "c2c_bob", "text": ""})),
            400,
            6017,
        ),
        (
            "POST",
            send.into(),
            Body::Json(json!({"conversationID": "c2c_bob", "text": big_text})),
            400,
            6017,
        ),
        (
            "POST",
            send.into(),
            Body::Json(json!({"conversationID": "c2c_../..", "text": "x"})),
            400,
            6017,
        ),
        (
            "POST",
            send.into(),
            Body::Json(json!({"conversationID": "<script>alert(1)</script>", "text": "x"})),
            400,
            6017,
        ),
        (
            "POST",
            send.into(),
            Body::Json(json!({"conversationID": format!("c2c_{long}"), "text": "x"})),
            400,
            6017,
        ),
        (
            "POST",
            send.into(),
            Body::Json(json!({"conversationID": "group_nope", "text": "x"})),
            403,
            10007,
        ),
        (
            "POST",
            send.into(),
            Body::Raw("application/json", "{not json".into()),
            400,
            6017,
        ),
        (
            "POST",
            send.into(),
            Body::Raw("application/json", huge),
            413,
            6017,
        ),
        (
            "POST",
            send.into(),
            Body::Raw(
                "text/plain",
                r#"{"conversationID":"c2c_bob","text":"x"}"#.into(),
            ),
            400,
            6017,
        ),
        (
            "POST",
            del.into(),
            Body::Json(json!({"conversationIDList": [], "clearMessage": true})),
            400,
            6017,
        ),
        (
            "POST",
            del.into(),
            Body::Json(json!({"conversationIDList": many, "clearMessage": true})),
            400,
            6017,
        ),
        (
            "POST",
            del.into(),
            Body::Json(json!({"conversationIDList": ["c2c_bob"], "clearMessage": "yes"})),
            400,
            6017,
        ),
        (
            "POST",
            del.into(),
            Body::Json(json!({"conversationIDList": ["c2c_bob"], "clearMessage": 1})),
            400,
            6017,
        ),
        (
            "POST",
            del.into(),
            Body::Json(json!({"conversationIDList": ["c2c_bob"]})),
            400,
            6017,
        ),
        (
            "POST",
            del.into(),
            Body::Json(json!({"conversationIDList": "c2c_bob", "clearMessage": true})),
            400,
            6017,
        ),
        (
            "POST",
            del.into(),
            Body::Json(json!({"conversationIDList": [1], "clearMessage": true})),
            400,
            6017,
        ),
        ("POST", del.into(), Body::Json(json!([])), 400, 6017),
        (
            "POST",
            read.into(),
            Body::Json(json!({"conversationID": null})),
            400,
            6017,
        ),
        (
            "POST",
            read.into(),
            Body::Json(json!({"conversationID": "group_has space"})),
            400,
            6017,
        ),
        (
            "POST",
            read.into(),
            Body::Json(json!({"conversationID": "c2c_dave"})),
            404,
            2500,
        ),
        (
            "POST",
            "/v1/login".into(),
            Body::Json(json!({"sdkAppID": "x", "userID": "alice"})),
            400,
            6017,
        ),
        (
            "GET",
            "/v1/conversations?count=0".into(),
            Body::None,
            400,
            6017,
        ),
        (
            "GET",
            "/v1/conversations?count=101".into(),
            Body::None,
            400,
            6017,
        ),
        (
            "GET",
            "/v1/conversations?count=-1".into(),
            Body::None,
            400,
            6017,
        ),
        (
            "GET",
            "/v1/conversations?count=abc".into(),
            Body::None,
            400,
            6017,
        ),
        (
            "GET",
            "/v1/conversations?nextSeq=-5".into(),
            Body::None,
            400,
            6017,
        ),
        (
            "GET",
            "/v1/conversations/c2c_..%2F..".into(),
            Body::None,
            400,
            6017,
        ),
        (
            "GET",
            format!("/v1/conversations/c2c_{long}"),
            Body::None,
            400,
            6017,
        ),
        ("GET", "/v1/messages?count=5".into(), Body::None, 400, 6017),
        (
            "GET",
            "/v1/messages?conversationID=c2c_bob&count=0".into(),
            Body::None,
            400,
            6017,
        ),
        (
            "GET",
            "/v1/messages?conversationID=c2c_bob&count=101".into(),
            Body::None,
            400,
            6017,
        ),
        (
            "GET",
            "/v1/messages?conversationID=%3Cscript%3E".into(),
            Body::None,
            400,
            6017,
        ),
        (
            "GET",
            "/v1/messages?conversationID=c2c_bob&beforeSeq=x".into(),
            Body::None,
            400,
            6017,
        ),
        ("GET", "/v1/changes?since=-1".into(), Body::None, 400, 6017),
        ("GET", "/v1/changes?since=abc".into(), Body::None, 400, 6017),
    ];
    assert!(cases.len() >= 20);
    for (method, path, body, status, code) in cases {
        let url = format!("{}{path}", srv.url);
        let mut req = srv
            .client
            .request(method.parse().unwrap(), &url)
            .bearer_auth(srv.sig("alice"));
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Raw(ct, text) => req.header("content-type", ct).body(text),
        };
        let (got_status, got) = srv.send_raw(req).await;
        let label = format!("{method} {}", path.chars().take(80).collect::<String>());
        assert_eq!(got_status, status, "{label}: {got}");
        assert_eq!(got["code"].as_u64(), Some(code), "{label}: {got}");
        let message = got["message"].as_str().expect("message");
        assert!(
            !message.is_empty() && message.len() < 400,
            "{label}: {message}"
        );
        assert_eq!(snapshot(&srv).await, before, "{label} changed state");
    }
}

#[tokio::test]
async fn messages_name_the_bad_value() {
    let srv = start(|_| {}).await;
    let (_, body) = srv.get_as("alice", "/v1/conversations?count=abc").await;
    assert!(
        body["message"].as_str().unwrap().contains("\"abc\""),
        "{body}"
    );
    let (_, body) = srv
        .post_as(
            "alice",
            "/v1/messages",
            json!({"conversationID": "c2c_a\"b", "text": "x"}),
        )
        .await;
    assert!(
        body["message"].as_str().unwrap().contains(r#""c2c_a\"b""#),
        "{body}"
    );
    let (_, body) = srv
        .post_as(
            "alice",
            "/v1/conversations/delete",
            json!({"conversationIDList": ["c2c_bob"], "clearMessage": "yes"}),
        )
        .await;
    assert!(body["message"].as_str().unwrap().contains("yes"), "{body}");
}
