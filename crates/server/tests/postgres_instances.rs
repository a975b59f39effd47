//! Several server instances on one PostgreSQL database (runs when CHAT_TEST_POSTGRES is set,
//! e.g. under `scripts/with-postgres`; on SQLite there is only ever one instance).

mod common;

use common::{next_frame, start, test_postgres, Srv};
use serde_json::json;
use std::time::Duration;

/// Two instances sharing one fresh database.
async fn two_instances(name: &str) -> Option<(Srv, Srv)> {
    if test_postgres().is_none() {
        eprintln!("CHAT_TEST_POSTGRES is not set: single-instance SQLite, nothing to test");
        return None;
    }
    let db = format!("{name}-{}-{}", std::process::id(), common::now_secs());
    let one = start(|c| c.db = db.clone()).await;
    let two = start(|c| c.db = db.clone()).await;
    Some((one, two))
}

#[tokio::test]
async fn a_write_on_one_instance_is_pushed_once_in_order_on_the_other() {
    let Some((one, two)) = two_instances("push").await else {
        return;
    };
    one.say("bob", "c2c_alice", "first").await;
    let mut ws = one.ws("alice").await;
    let mut sent = Vec::new();
    for i in 0..6 {
        // Alternate the instances the writes land on.
        let srv = if i % 2 == 0 { &two } else { &one };
        let body = srv.say("bob", "c2c_alice", &format!("m{i}")).await;
        sent.push(body["message"]["text"].as_str().unwrap().to_owned());
    }
    let mut seqs = Vec::new();
    let mut texts = Vec::new();
    for _ in 0..6 {
        let frame = next_frame(&mut ws, common::WAIT).await.expect("pushed");
        seqs.push(frame["seq"].as_u64().unwrap());
        texts.push(frame["message"]["text"].as_str().unwrap().to_owned());
    }
    assert_eq!(seqs, (2..=7).collect::<Vec<_>>(), "alice's feed, in order");
    assert_eq!(texts, sent);
    assert!(
        next_frame(&mut ws, Duration::from_millis(500))
            .await
            .is_none(),
        "each entry is pushed once"
    );
}

#[tokio::test]
async fn concurrent_sends_on_two_instances_keep_feed_and_thread_seqs_gapless() {
    let Some((one, two)) = two_instances("seqs").await else {
        return;
    };
    let (status, _) = one
        .post_as(
            "admin",
            "/v1/messages",
            json!({"conversationID": "c2c_alice", "text": "x"}),
        )
        .await;
    assert_eq!(status, 200);
    let senders = ["bob", "carol", "dave", "erin"];
    let mut tasks = Vec::new();
    for (i, s) in senders.iter().enumerate() {
        for k in 0..10 {
            let srv = if (i + k) % 2 == 0 { &one } else { &two };
            let text = format!("{s}-{k}");
            tasks.push(async move { srv.say(s, "c2c_alice", &text).await });
        }
    }
    futures_util::future::join_all(tasks).await;
    let (status, feed) = two.get_as("alice", "/v1/changes?since=1&limit=100").await;
    assert_eq!(status, 200, "{feed}");
    let seqs: Vec<u64> = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (2..=41).collect::<Vec<_>>(), "gapless and unique");
    for s in senders {
        let (_, history) = one
            .get_as(s, "/v1/messages?conversationID=c2c_alice&count=100")
            .await;
        let mut thread: Vec<u64> = history["messageList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect();
        thread.reverse();
        assert_eq!(thread, (1..=10).collect::<Vec<_>>(), "{s}'s thread");
    }
}

#[tokio::test]
async fn one_conversation_deleted_on_two_instances_at_once_succeeds_once() {
    let Some((one, two)) = two_instances("delete").await else {
        return;
    };
    for round in 0..10 {
        one.say("bob", "c2c_alice", &format!("r{round}")).await;
        let body = json!({"conversationIDList": ["c2c_bob"], "clearMessage": false});
        let (a, b) = tokio::join!(
            one.post_as("alice", "/v1/conversations/delete", body.clone()),
            two.post_as("alice", "/v1/conversations/delete", body.clone()),
        );
        let mut codes = [
            a.1["results"][0]["resultCode"].as_u64().unwrap(),
            b.1["results"][0]["resultCode"].as_u64().unwrap(),
        ];
        codes.sort();
        assert_eq!(codes, [0, 2500], "round {round}: {a:?} {b:?}");
    }
}

#[tokio::test]
async fn a_read_mark_racing_a_send_leaves_the_right_unread_count() {
    let Some((one, two)) = two_instances("read").await else {
        return;
    };
    one.say("bob", "c2c_alice", "start").await;
    for round in 0..15 {
        let read_body = json!({"conversationID": "c2c_bob"});
        let text = format!("r{round}");
        let (sent, read) = tokio::join!(
            two.say("bob", "c2c_alice", &text),
            one.post_as("alice", "/v1/conversations/read", read_body.clone()),
        );
        assert_eq!(read.0, 200, "{}", read.1);
        let sent_seq = sent["message"]["seq"].as_u64().unwrap();
        let read_upto = read.1["conversation"]["lastMessage"]["seq"]
            .as_u64()
            .unwrap();
        // The read covered the message iff it committed after the send.
        let expected = u64::from(read_upto < sent_seq);
        let (_, conv) = two.get_as("alice", "/v1/conversations/c2c_bob").await;
        assert_eq!(
            conv["unreadCount"].as_u64(),
            Some(expected),
            "round {round}: {conv}"
        );
        let (status, _) = two
            .post_as("alice", "/v1/conversations/read", read_body)
            .await;
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn a_ticket_from_one_instance_opens_a_websocket_on_the_other_once() {
    let Some((one, two)) = two_instances("tickets").await else {
        return;
    };
    let ticket = one.ticket("alice").await;
    let mut ws = raw_ws(&two, &ticket)
        .await
        .expect("opens on the other instance");
    // Used: a replay fails on both instances with 401/70003.
    for srv in [&one, &two] {
        let (status, body) = raw_ws(srv, &ticket).await.unwrap_err();
        assert_eq!(
            (status, body["code"].as_u64()),
            (401, Some(70003)),
            "{body}"
        );
    }
    // The socket opened on instance 2 receives a write made on instance 1.
    one.say("bob", "c2c_alice", "hi").await;
    let frame = next_frame(&mut ws, common::WAIT).await.expect("pushed");
    assert_eq!(frame["message"]["text"], "hi", "{frame}");
}

/// Opens a WebSocket on `srv` with a given ticket; a refusal gives its status and JSON body.
async fn raw_ws(srv: &Srv, ticket: &str) -> Result<common::Ws, (u16, serde_json::Value)> {
    let url = format!(
        "{}/v1/ws?ticket={ticket}",
        srv.url.replacen("http", "ws", 1)
    );
    match tokio_tungstenite::connect_async(url).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let body = resp.body().as_deref().unwrap_or(b"null");
            let json = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
            Err((resp.status().as_u16(), json))
        }
        Err(e) => panic!("WebSocket to {} failed: {e}", srv.url),
    }
}
