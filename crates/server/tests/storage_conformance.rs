//! One set of cases for the `Storage` trait, run on every backend (SQLite, and PostgreSQL when
//! CHAT_TEST_POSTGRES is set); a backend adds one `#[tokio::test]` calling `run_all`.

mod common;

use chat_core::id::ConversationId;
use chat_core::wire::{Change, ChangeEnvelope, MAX_CHANGES_PER_REPLY, MAX_RESET_PAGE};
use chat_server::auth::Tickets;
use chat_server::postgres::PgStorage;
use chat_server::sqlite::SqliteStorage;
use chat_server::storage::{ChangeSink, Storage};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Records every published entry per user.
#[derive(Default)]
struct Recorder(Mutex<HashMap<String, Vec<ChangeEnvelope>>>);

impl ChangeSink for Recorder {
    fn publish(&self, user_id: &str, changes: &[ChangeEnvelope]) {
        let mut all = self.0.lock().unwrap();
        let list = all.entry(user_id.to_owned()).or_default();
        list.extend_from_slice(changes);
    }
}

impl Recorder {
    fn seqs(&self, user: &str) -> Vec<u64> {
        let all = self.0.lock().unwrap();
        all.get(user)
            .map(|l| l.iter().map(|e| e.seq).collect())
            .unwrap_or_default()
    }
}

type Made = std::pin::Pin<Box<dyn std::future::Future<Output = Box<dyn Storage>>>>;
type Make = fn(Arc<Recorder>) -> Made;

fn c2c(u: &str) -> ConversationId {
    ConversationId::c2c(u)
}

fn group(g: &str) -> ConversationId {
    ConversationId::Group(g.to_owned())
}

async fn texts(s: &dyn Storage, user: &str, id: &ConversationId) -> Vec<String> {
    let reply = s.history(user, id, 100, None).await.unwrap();
    reply.message_list.into_iter().map(|m| m.text).collect()
}

async fn c2c_send_reaches_both_sides_and_the_feed(make: Make) {
    let rec = Arc::new(Recorder::default());
    let s = make(rec.clone()).await;
    let sent = s.send_text("alice", &c2c("bob"), "hi", 5).await.unwrap();
    assert_eq!((sent.message.seq, sent.feed_seq), (1, 1));
    assert_eq!(sent.conversation.conversation_id, "c2c_bob");
    assert_eq!(sent.conversation.unread_count, 0);
    let bob = s.get_conversation("bob", &c2c("alice")).await.unwrap();
    assert_eq!(bob.unread_count, 1);
    assert_eq!(bob.last_message.unwrap().text, "hi");
    let read = s.mark_read("bob", &c2c("alice")).await.unwrap();
    assert_eq!((read.conversation.unread_count, read.feed_seq), (0, 2));
    assert_eq!(rec.seqs("bob"), [1, 2], "published in feed order");
    let feed = s.changes("bob", 1, None, 10).await.unwrap();
    assert_eq!(feed.cursor, 2);
    assert!(!feed.reset && !feed.has_more);
}

async fn deletion_hides_and_reports_seqs(make: Make) {
    let s = make(Arc::default()).await;
    s.send_text("alice", &c2c("bob"), "one", 1).await.unwrap();
    s.send_text("bob", &c2c("alice"), "two", 2).await.unwrap();
    let out = s
        .delete_conversations("alice", &[c2c("bob"), c2c("carol")], true)
        .await
        .unwrap();
    let deleted = out[0].as_ref().unwrap();
    assert_eq!((deleted.upto_seq, deleted.feed_seq), (2, 3));
    assert_eq!(out[1].as_ref().unwrap_err().code, 2500);
    assert!(texts(&*s, "alice", &c2c("bob")).await.is_empty(), "cleared");
    assert_eq!(texts(&*s, "bob", &c2c("alice")).await, ["two", "one"]);
    let again = s
        .delete_conversations("alice", &[c2c("bob")], false)
        .await
        .unwrap();
    assert_eq!(again[0].as_ref().unwrap_err().code, 2500);
    s.send_text("bob", &c2c("alice"), "three", 3).await.unwrap();
    assert_eq!(texts(&*s, "alice", &c2c("bob")).await, ["three"]);
    let feed = s.changes("alice", 2, None, 10).await.unwrap();
    assert!(matches!(
        feed.changes[0].change,
        Change::ConversationDeleted {
            clear_message: true,
            upto_seq: 2,
            ..
        }
    ));
}

async fn group_membership_bounds_what_is_seen(make: Make) {
    let s = make(Arc::default()).await;
    let team = group("team");
    let members = |l: &[&str]| l.iter().map(|m| m.to_string()).collect::<Vec<_>>();
    s.upsert_group("team", "Team", &members(&["a", "b"]))
        .await
        .unwrap();
    assert_eq!(
        s.send_text("x", &team, "no", 1).await.unwrap_err().code,
        10007
    );
    assert_eq!(
        s.history("x", &team, 10, None).await.unwrap_err().code,
        10007
    );
    s.send_text("a", &team, "before", 1).await.unwrap();
    s.upsert_group("team", "Team", &members(&["a"]))
        .await
        .unwrap();
    s.send_text("a", &team, "while out", 2).await.unwrap();
    assert_eq!(
        s.send_text("b", &team, "no", 3).await.unwrap_err().code,
        10007
    );
    let conv = s.get_conversation("b", &team).await.unwrap();
    assert_eq!(conv.last_message.unwrap().text, "before");
    s.upsert_group("team", "Team", &members(&["a", "b"]))
        .await
        .unwrap();
    s.send_text("a", &team, "after", 4).await.unwrap();
    assert_eq!(texts(&*s, "b", &team).await, ["after", "before"]);
    assert_eq!(texts(&*s, "a", &team).await.len(), 3);
    let list = s.list_conversations("b", 0, 10).await.unwrap();
    assert_eq!(
        list.conversation_list[0]
            .last_message
            .as_ref()
            .unwrap()
            .text,
        "after"
    );
}

async fn pages_are_bounded(make: Make) {
    let s = make(Arc::default()).await;
    let n = MAX_RESET_PAGE + 5;
    for i in 0..n {
        s.send_text(&format!("p{i:03}"), &c2c("me"), "x", 1)
            .await
            .unwrap();
    }
    let first = s
        .changes("me", 0, None, MAX_CHANGES_PER_REPLY)
        .await
        .unwrap();
    assert!(first.reset && first.has_more);
    assert_eq!(first.conversations.len(), MAX_RESET_PAGE);
    assert_eq!(first.cursor, n as u64);
    let after = first.next_after.clone().unwrap();
    let second = s
        .changes("me", 0, Some(&after), MAX_CHANGES_PER_REPLY)
        .await
        .unwrap();
    assert_eq!(second.conversations.len(), 5);
    assert!(!second.has_more && second.next_after.is_none());
    assert!(second.conversations[0].conversation_id > after);
    let feed = s.changes("me", 1, None, 10).await.unwrap();
    assert_eq!(
        (feed.changes.len(), feed.has_more, feed.cursor),
        (10, true, 11)
    );
    // History pages by seq.
    for i in 0..5 {
        s.send_text("me", &c2c("p000"), &format!("m{i}"), 1)
            .await
            .unwrap();
    }
    let page = s.history("me", &c2c("p000"), 2, Some(5)).await.unwrap();
    let seqs: Vec<u64> = page.message_list.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [4, 3]);
    let list = s.list_conversations("me", 0, 3).await.unwrap();
    assert!(!list.is_finished);
    assert_eq!(list.conversation_list[0].conversation_id, "c2c_p000");
    let next = s.list_conversations("me", list.next_seq, 3).await.unwrap();
    assert!(next.conversation_list[0].order_key < list.next_seq);
}

async fn tickets_open_once_and_expire(make: Make) {
    let s = make(Arc::default()).await;
    let tickets = Tickets::new(Duration::from_secs(30));
    let t = tickets.issue(&*s, "alice", 1_000).await.unwrap();
    assert_ne!(t, tickets.issue(&*s, "alice", 1_000).await.unwrap());
    assert_eq!(tickets.redeem(&*s, &t, 2_000).await.unwrap(), "alice");
    assert_eq!(
        tickets.redeem(&*s, &t, 2_000).await.unwrap_err().code,
        70003
    );
    let late = tickets.issue(&*s, "bob", 1_000).await.unwrap();
    let err = tickets.redeem(&*s, &late, 31_000).await.unwrap_err();
    assert_eq!(err.code, 70003);
    assert!(err.message.contains("expired"), "{}", err.message);
    // An expired ticket that nobody redeemed is purged when later ones are issued.
    let stale = tickets.issue(&*s, "carol", 40_000).await.unwrap();
    tickets.issue(&*s, "carol", 80_000).await.unwrap();
    let err = tickets.redeem(&*s, &stale, 80_000).await.unwrap_err();
    assert!(err.message.contains("unknown"), "{}", err.message);
    // Taken at once by many (as by several instances): exactly one gets it.
    let t = tickets.issue(&*s, "dave", 80_000).await.unwrap();
    let tries = (0..8).map(|_| tickets.redeem(&*s, &t, 80_001));
    let won = futures_util::future::join_all(tries).await;
    assert_eq!(won.iter().filter(|r| r.is_ok()).count(), 1);
    // A user holds at most MAX_LIVE_TICKETS unused ones; others are not affected, and expired or
    // redeemed ones free their places.
    let max = chat_server::auth::MAX_LIVE_TICKETS as usize;
    let mut held = Vec::new();
    for _ in 0..max {
        held.push(tickets.issue(&*s, "erin", 90_000).await.unwrap());
    }
    let err = tickets.issue(&*s, "erin", 90_000).await.unwrap_err();
    assert_eq!(err.code, 9506);
    assert!(err.message.contains("\"erin\""), "{}", err.message);
    tickets.issue(&*s, "frank", 90_000).await.unwrap();
    tickets.redeem(&*s, &held[0], 90_001).await.unwrap();
    tickets.issue(&*s, "erin", 90_002).await.unwrap();
    tickets.issue(&*s, "erin", 120_001).await.unwrap();
}

async fn run_all(make: Make) {
    tickets_open_once_and_expire(make).await;
    c2c_send_reaches_both_sides_and_the_feed(make).await;
    deletion_hides_and_reports_seqs(make).await;
    group_membership_bounds_what_is_seen(make).await;
    pages_are_bounded(make).await;
}

#[tokio::test]
async fn sqlite_storage_conforms() {
    run_all(|sink| {
        Box::pin(async { Box::new(SqliteStorage::open(":memory:", sink).unwrap()) as _ })
    })
    .await;
}

#[tokio::test]
async fn postgres_storage_conforms() {
    if common::test_postgres().is_none() {
        eprintln!("CHAT_TEST_POSTGRES is not set: SQLite only");
        return;
    }
    run_all(|sink| {
        Box::pin(async {
            let url = common::test_db(":memory:").await;
            Box::new(PgStorage::open(&url, 4, sink).await.unwrap()) as _
        })
    })
    .await;
}
