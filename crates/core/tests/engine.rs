//! The conversation engine against the in-process fake server: every rule of the contract that
//! the core owns, observed through results, events, lists and the (fake) server's state.

mod support;

use chat_core::event::Event;
use chat_core::memory_store::MemoryOpener;
use chat_core::{Arg, ErrorCode, IdStyle};
use futures::FutureExt;
use std::rc::Rc;
use support::fake_server::FakeServer;
use support::*;

/// alice with conversations c2c_bob (2 unread), c2c_carol (1 unread) and group_team (1 unread).
fn setup() -> (Rc<FakeServer>, Device, Device) {
    let server = FakeServer::new();
    server.create_group("team", &["alice", "bob", "carol"]);
    let alice = device(&server, "alice", IdStyle::Native);
    let bob = device(&server, "bob", IdStyle::Native);
    let carol = device(&server, "carol", IdStyle::Native);
    bob.send("c2c_alice", "hi 1");
    bob.send("c2c_alice", "hi 2");
    carol.send("c2c_alice", "hello");
    bob.send("group_team", "team news");
    alice.deliver_pushes();
    alice.hooks.take();
    (server, alice, bob)
}

#[test]
fn pushes_build_the_list_with_unread_counts() {
    let (_server, alice, _bob) = setup();
    assert_eq!(alice.ids(), vec!["group_team", "c2c_carol", "c2c_bob"]);
    assert_eq!(alice.total_unread(), 4);
}

#[test]
fn a_burst_of_pushes_gives_one_round_of_events_and_the_same_state() {
    let server = FakeServer::new();
    let alice = device(&server, "alice", IdStyle::Native);
    let one_by_one = device(&server, "alice", IdStyle::Native);
    let bob = device(&server, "bob", IdStyle::Native);
    for i in 0..5 {
        bob.send("c2c_alice", &format!("m{i}"));
    }
    alice.deliver_pushes_together();
    one_by_one.deliver_pushes();
    assert_eq!(alice.ids(), one_by_one.ids());
    assert_eq!(alice.total_unread(), 5);
    assert_eq!(one_by_one.total_unread(), 5);
    let events = alice.hooks.take();
    let new = events
        .iter()
        .filter(|e| matches!(e, Event::NewConversation(_)))
        .count();
    let received = events
        .iter()
        .filter(|e| matches!(e, Event::RecvNewMessage(_)))
        .count();
    assert_eq!((new, received), (1, 5), "{events:?}");
    assert_eq!(
        alice.hooks.unread_totals(),
        Vec::<u64>::new(),
        "taken above"
    );
    assert!(events.contains(&Event::TotalUnreadChanged(5)));
    // The cursor moved over the contiguous burst: a sync brings nothing new.
    alice.sync();
    assert!(alice
        .hooks
        .take()
        .iter()
        .all(|e| matches!(e, Event::SyncServerStart | Event::SyncServerFinish)));
}

#[test]
fn batch_delete_per_item_results_and_duplicates() {
    let (server, alice, _bob) = setup();
    let results = alice
        .delete(
            &[
                "c2c_bob",
                "bad id",
                "C2Cbob",
                "c2c_nobody",
                "bad id",
                "group_team",
            ],
            false,
        )
        .expect("batch");
    let summary: Vec<(&str, u32)> = results
        .iter()
        .map(|r| (r.conversation_id.as_str(), r.result_code))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("c2c_bob", 0),
            ("bad id", 6017),
            ("c2c_nobody", 2500),
            ("group_team", 0)
        ]
    );
    assert_eq!(results[0].result_info, "");
    assert!(results[1].result_info.contains("\"bad id\""));
    assert_eq!(alice.ids(), vec!["c2c_carol"]);
    assert_eq!(server.live_ids("alice"), vec!["c2c_carol"]);
    // One onConversationDeleted with exactly the deleted IDs, then the new unread total.
    let events = alice.hooks.take();
    assert_eq!(
        events[0],
        Event::ConversationDeleted(vec!["c2c_bob".into(), "group_team".into()])
    );
    assert!(events.contains(&Event::TotalUnreadChanged(1)));
    assert_eq!(
        alice.hooks.shared.borrow().len(),
        1,
        "shared with other tabs once"
    );
}

#[test]
fn web_style_results_and_events() {
    let server = FakeServer::new();
    let alice = device(&server, "alice", IdStyle::Web);
    let bob = device(&server, "bob", IdStyle::Native);
    bob.send("c2c_alice", "x");
    alice.deliver_pushes();
    assert_eq!(alice.ids(), vec!["C2Cbob"]);
    let results = alice.delete(&["c2c_bob"], true).expect("delete");
    assert_eq!(results[0].conversation_id, "C2Cbob");
    assert_eq!(alice.hooks.deleted_ids(), vec!["C2Cbob"]);
}

#[test]
fn over_100_is_refused_and_exactly_100_works() {
    let server = FakeServer::new();
    let alice = device(&server, "alice", IdStyle::Native);
    let ids: Vec<String> = (0..100).map(|i| format!("c2c_u{i}")).collect();
    for id in &ids {
        let peer = device(&server, &id[4..], IdStyle::Native);
        peer.send("c2c_alice", "hi");
    }
    alice.deliver_pushes();
    assert_eq!(alice.ids().len(), 100);
    let mut many: Vec<&str> = ids.iter().map(String::as_str).collect();
    many.push("c2c_extra");
    let calls = server.calls.get();
    let err = alice.delete(&many, true).unwrap_err();
    assert_eq!(err.code, 6017);
    assert!(err.message.contains("101"), "{}", err.message);
    assert_eq!(server.calls.get(), calls, "no request sent");
    assert_eq!(alice.ids().len(), 100, "nothing deleted, nothing truncated");
    let results = alice.delete(&many[..100], true).expect("100");
    assert!(results.iter().all(|r| r.result_code == 0));
    assert!(alice.ids().is_empty());
    assert_eq!(alice.hooks.deleted_ids().len(), 100);
}

#[test]
fn failed_request_changes_nothing_locally() {
    let (server, alice, _bob) = setup();
    for code in [
        ErrorCode::NetworkDisconnected,
        ErrorCode::RequestTimeout,
        ErrorCode::ServerError,
        ErrorCode::FrequencyLimit,
    ] {
        server.fail_next(code);
        let err = alice.delete(&["c2c_bob", "c2c_carol"], true).unwrap_err();
        assert_eq!(err.code, code.code());
        assert_eq!(alice.ids().len(), 3);
        assert_eq!(alice.total_unread(), 4);
        assert!(alice.hooks.take().is_empty(), "no events on failure");
    }
    // Once the server is back, the same delete succeeds.
    alice.delete(&["c2c_bob"], true).expect("retry");
    assert_eq!(alice.ids(), vec!["group_team", "c2c_carol"]);
}

#[test]
fn delete_conversation_rejects_with_item_codes() {
    let (_server, alice, _bob) = setup();
    let one = |id: Arg| block_on(alice.engine.delete_conversation(&id));
    assert_eq!(one(Arg::str("c2c_nobody")).unwrap_err().code, 2500);
    assert_eq!(one(Arg::str("nonsense")).unwrap_err().code, 6017);
    assert_eq!(one(Arg::Number(5.0)).unwrap_err().code, 6017);
    one(Arg::str("C2Cbob")).expect("delete web-style input");
    assert_eq!(alice.hooks.deleted_ids(), vec!["c2c_bob"]);
    assert_eq!(
        one(Arg::str("c2c_bob")).unwrap_err().code,
        2500,
        "already gone"
    );
}

#[test]
fn clear_versus_keep_history() {
    let (_server, alice, bob) = setup();
    alice.delete(&["c2c_bob"], true).expect("clear");
    alice.delete(&["group_team"], false).expect("keep");
    bob.send("c2c_alice", "after clear");
    bob.send("group_team", "after keep");
    alice.deliver_pushes();
    assert_eq!(alice.history("c2c_bob"), vec!["after clear"]);
    assert_eq!(alice.history("group_team"), vec!["after keep", "team news"]);
    // The peer keeps their own history.
    assert_eq!(
        bob.history("c2c_alice"),
        vec!["after clear", "hi 2", "hi 1"]
    );
}

#[test]
fn history_pages_cut_by_the_server_are_continued() {
    let server = FakeServer::new();
    server.history_cut.set(3);
    let alice = device(&server, "alice", IdStyle::Native);
    let bob = device(&server, "bob", IdStyle::Native);
    for i in 0..10 {
        bob.send("c2c_alice", &format!("m{i}"));
    }
    // Four server pages (3 + 3 + 3 + 1) make one list: a cut page is not the start.
    let expected: Vec<String> = (0..10).rev().map(|i| format!("m{i}")).collect();
    assert_eq!(alice.history("c2c_bob"), expected);
}

#[test]
fn local_messages_are_cleared_only_with_clear_message() {
    let (server, alice, _bob) = setup();
    alice.history("c2c_bob"); // caches both messages locally
    alice.history("c2c_carol");
    alice.delete(&["c2c_bob"], true).expect("clear");
    alice.delete(&["c2c_carol"], false).expect("keep");
    // Offline, history comes from the local store.
    server.fail_next(ErrorCode::NetworkDisconnected);
    assert!(alice.history("c2c_bob").is_empty());
    server.fail_next(ErrorCode::NetworkDisconnected);
    assert_eq!(alice.history("c2c_carol"), vec!["hello"]);
}

#[test]
fn a_history_page_read_before_a_clearing_deletion_is_not_cached_after_it() {
    let (server, alice, bob) = setup();
    server.sync_deletion.set(true);
    // While alice's history request is in flight, her other device deletes the conversation
    // with its history, and that push reaches this device before the history reply does.
    *alice.transport.push_before_reply.borrow_mut() = Some(alice.engine.clone());
    let during = server.clone();
    *alice.transport.during_history.borrow_mut() = Some(Box::new(move || {
        let request = chat_core::wire::DeleteRequest {
            conversation_id_list: vec!["c2c_bob".into()],
            clear_message: true,
        };
        during.delete("alice", &request).unwrap();
    }));
    let page = alice.history("c2c_bob");
    *alice.transport.during_history.borrow_mut() = None;
    assert!(page.is_empty(), "the deletion hid them: {page:?}");
    assert_eq!(alice.hooks.deleted_ids(), vec!["c2c_bob"]);
    // Offline, the cache holds none of the hidden messages, nor after the conversation is back.
    server.fail_next(ErrorCode::NetworkDisconnected);
    assert!(alice.history("c2c_bob").is_empty());
    bob.send("c2c_alice", "after clear");
    alice.deliver_pushes();
    server.fail_next(ErrorCode::NetworkDisconnected);
    assert_eq!(alice.history("c2c_bob"), vec!["after clear"]);
}

#[test]
fn cached_messages_a_clearing_deletion_hid_stay_hidden_whoever_wrote_them() {
    // Two tabs share one store. One tab reads a page, the other deletes the conversation with
    // its history and clears the store, and then the first tab's late page lands in the store:
    // the store holds messages the deletion hid. Reads from the cache must not show them, in
    // this tab, in the other, or after a reload.
    let server = FakeServer::new();
    server.sync_deletion.set(true);
    let opener = Rc::new(MemoryOpener::default());
    let tab1 = device_with_opener(&server, "alice", IdStyle::Native, opener.clone());
    let tab2 = device_with_opener(&server, "alice", IdStyle::Native, opener.clone());
    let bob = device(&server, "bob", IdStyle::Native);
    bob.send("c2c_alice", "one");
    bob.send("c2c_alice", "two");
    tab1.deliver_pushes();
    tab2.deliver_pushes();
    // A page tab2 read, cached only after tab1's deletion below.
    let page = server
        .history("alice", "c2c_bob", 20, None)
        .unwrap()
        .message_list;
    tab1.delete(&["c2c_bob"], true).expect("delete");
    tab2.deliver_pushes();
    let namespace = tab2.engine.namespace().unwrap();
    let store = block_on(chat_core::store::StoreOpener::open(&*opener, &namespace)).unwrap();
    let late = chat_core::store::StoreBatch {
        put_messages: page,
        ..Default::default()
    };
    block_on(store.apply(&late)).unwrap();
    for tab in [&tab1, &tab2] {
        server.fail_next(ErrorCode::NetworkDisconnected);
        let h = tab.history("c2c_bob");
        assert!(h.is_empty(), "cleared messages shown: {h:?}");
    }
    let reload = device_with_opener(&server, "alice", IdStyle::Native, opener);
    server.fail_next(ErrorCode::NetworkDisconnected);
    assert!(
        reload.history("c2c_bob").is_empty(),
        "cleared messages shown after a reload"
    );
    // A message after the deletion is shown, from the cache too.
    bob.send("c2c_alice", "three");
    reload.deliver_pushes();
    server.fail_next(ErrorCode::NetworkDisconnected);
    assert_eq!(reload.history("c2c_bob"), vec!["three"]);
}

#[test]
fn new_message_brings_it_back_but_old_or_duplicate_does_not() {
    let (server, alice, bob) = setup();
    // A push of the pre-deletion state, delivered late, must not resurrect it.
    let stale = server_state_push(&server, &alice);
    alice.delete(&["c2c_bob"], true).expect("delete");
    alice.hooks.take();
    for env in stale {
        block_on(alice.engine.on_pushes(vec![env]));
    }
    assert!(!alice.ids().contains(&"c2c_bob".to_string()));
    assert!(alice.hooks.take().is_empty());
    bob.send("c2c_alice", "back");
    alice.deliver_pushes();
    assert_eq!(alice.ids()[0], "c2c_bob");
    let events = alice.hooks.take();
    assert!(
        matches!(&events[0], Event::NewConversation(c) if c[0].conversation_id == "c2c_bob" && c[0].unread_count == 1)
    );
    assert!(events.contains(&Event::TotalUnreadChanged(3)));
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::RecvNewMessage(m) if m.text == "back")));
}

/// Everything in alice's feed so far, as pushes (to replay late).
fn server_state_push(
    _server: &Rc<FakeServer>,
    alice: &Device,
) -> Vec<chat_core::wire::ChangeEnvelope> {
    let reply = block_on(chat_core::transport::Transport::changes(
        &*alice.transport,
        1,
        None,
    ))
    .unwrap();
    reply.changes
}

#[test]
fn other_device_with_sync_gets_event_once() {
    let (server, alice, _bob) = setup();
    server.sync_deletion.set(true);
    let alice2 = device(&server, "alice", IdStyle::Native);
    assert_eq!(alice2.ids().len(), 3, "second device synced at login");
    alice.delete(&["c2c_carol"], false).expect("delete");
    alice2.deliver_pushes();
    assert_eq!(alice2.hooks.deleted_ids(), vec!["c2c_carol"]);
    assert_eq!(alice2.ids(), vec!["group_team", "c2c_bob"]);
    // The feed holds the same deletion: a sync afterwards does not fire again.
    alice2.sync();
    alice2.deliver_pushes();
    assert_eq!(alice2.hooks.deleted_ids(), vec!["c2c_carol"]);
    // The deleting device hears its own deletion once too.
    alice.deliver_pushes();
    alice.sync();
    assert_eq!(alice.hooks.deleted_ids(), vec!["c2c_carol"]);
}

#[test]
fn own_pushes_arriving_before_the_reply_fire_nothing_twice() {
    let (server, alice, _bob) = setup();
    server.sync_deletion.set(true);
    *alice.transport.push_before_reply.borrow_mut() = Some(alice.engine.clone());
    alice
        .delete(&["c2c_bob", "group_team"], true)
        .expect("delete");
    assert_eq!(alice.hooks.deleted_ids(), vec!["c2c_bob", "group_team"]);
    alice.hooks.take();
    alice.send("c2c_carol", "mine");
    let events = alice.hooks.take();
    assert!(
        !events.iter().any(|e| matches!(e, Event::RecvNewMessage(_))),
        "own message is not received: {events:?}"
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::ConversationChanged(c) if c[0].last_message.as_ref().unwrap().text == "mine")));
}

#[test]
fn pushes_during_a_reset_sync_are_not_undone() {
    let server = FakeServer::new();
    let alice = device(&server, "alice", IdStyle::Native);
    *alice.transport.push_before_reply.borrow_mut() = Some(alice.engine.clone());
    let during = server.clone();
    *alice.transport.during_changes.borrow_mut() = Some(Box::new(move || {
        let to_alice = chat_core::ConversationId::c2c("alice");
        during.send("bob", &to_alice, "b1").unwrap();
        during.send("dave", &to_alice, "d1").unwrap();
        during.send("bob", &to_alice, "b2").unwrap();
    }));
    alice.sync(); // alice's feed was empty: a reset reply, computed before the messages
    *alice.transport.during_changes.borrow_mut() = None;
    assert_eq!(alice.ids(), vec!["c2c_bob", "c2c_dave"]);
    assert!(
        alice.hooks.deleted_ids().is_empty(),
        "{:?}",
        alice.hooks.take()
    );
    assert_eq!(alice.total_unread(), 3);
    alice.sync();
    assert_eq!(alice.ids(), vec!["c2c_bob", "c2c_dave"]);
    assert_eq!(alice.total_unread(), 3);
}

#[test]
fn without_sync_other_device_converges_at_next_sync() {
    let (server, alice, _bob) = setup();
    let alice2 = device(&server, "alice", IdStyle::Native);
    alice.delete(&["c2c_carol"], false).expect("delete");
    alice2.deliver_pushes();
    assert!(
        alice2.hooks.deleted_ids().is_empty(),
        "no push without sync"
    );
    assert_eq!(alice2.ids().len(), 3);
    alice2.sync();
    assert_eq!(alice2.hooks.deleted_ids(), vec!["c2c_carol"]);
    assert_eq!(alice2.ids().len(), 2);
}

#[test]
fn offline_device_converges_at_next_login_and_state_persists() {
    let server = FakeServer::new();
    let opener = Rc::new(MemoryOpener::default());
    let alice = device_with_opener(&server, "alice", IdStyle::Native, opener.clone());
    let bob = device(&server, "bob", IdStyle::Native);
    bob.send("c2c_alice", "one");
    alice.deliver_pushes();
    block_on(alice.engine.logout()).unwrap();
    // Meanwhile another device deletes it.
    let other = device(&server, "alice", IdStyle::Native);
    other.delete(&["c2c_bob"], true).expect("delete");
    block_on(alice.engine.login(&Arg::str("alice"), &Arg::str("valid"))).unwrap();
    assert!(alice.ids().is_empty());
    assert_eq!(alice.hooks.deleted_ids(), vec!["c2c_bob"]);
    // A fresh engine on the same storage (a reload) still has it deleted, without a new event.
    let reload = device_with_opener(&server, "alice", IdStyle::Native, opener);
    assert!(reload.ids().is_empty());
    assert!(reload.hooks.deleted_ids().is_empty());
}

#[test]
fn other_tab_changes_apply_once_whichever_arrives_first() {
    let (server, alice, _bob) = setup();
    server.sync_deletion.set(true);
    let tab2 = device(&server, "alice", IdStyle::Native);
    alice.delete(&["c2c_bob"], true).expect("delete");
    let shared = alice.hooks.shared.borrow().last().cloned().unwrap();
    block_on(tab2.engine.on_tab_changes(shared.clone()));
    tab2.deliver_pushes();
    block_on(tab2.engine.on_tab_changes(shared));
    assert_eq!(tab2.hooks.deleted_ids(), vec!["c2c_bob"]);
}

#[test]
fn unread_total_and_clean() {
    let (_server, alice, _bob) = setup();
    block_on(
        alice
            .engine
            .clean_conversation_unread_message_count(&Arg::str("c2c_bob")),
    )
    .unwrap();
    assert_eq!(alice.total_unread(), 2);
    assert_eq!(alice.hooks.unread_totals(), vec![2]);
    alice.delete(&["group_team"], true).unwrap();
    assert_eq!(alice.hooks.unread_totals(), vec![2, 1]);
    // A late push with the old unread count does not raise it again.
    alice.deliver_pushes();
    assert_eq!(alice.total_unread(), 1);
}

#[test]
fn paging_by_order_key() {
    let (_server, alice, _bob) = setup();
    let list = |seq: f64, n: f64| {
        block_on(
            alice
                .engine
                .get_conversation_list(&Arg::Number(seq), &Arg::Number(n)),
        )
        .unwrap()
    };
    let p1 = list(0.0, 2.0);
    assert!(!p1.is_finished);
    let p2 = list(p1.next_seq as f64, 2.0);
    assert!(p2.is_finished);
    let all: Vec<_> = p1
        .conversation_list
        .iter()
        .chain(&p2.conversation_list)
        .map(|c| c.conversation_id.clone())
        .collect();
    assert_eq!(all, alice.ids());
    assert!(p1.conversation_list[0].order_key > p1.conversation_list[1].order_key);
}

#[test]
fn listeners_may_call_back_into_the_engine() {
    let (_server, alice, _bob) = setup();
    let engine = alice.engine.clone();
    let seen = Rc::new(std::cell::RefCell::new(Vec::new()));
    let seen2 = seen.clone();
    *alice.hooks.on_emit.borrow_mut() = Some(Box::new(move |e| {
        if matches!(e, Event::ConversationDeleted(_)) {
            let page = engine
                .get_conversation_list(&Arg::Number(0.0), &Arg::Number(10.0))
                .now_or_never()
                .expect("completes without waiting")
                .expect("list from inside a listener");
            seen2.borrow_mut().push(page.conversation_list.len());
        }
    }));
    alice.delete(&["c2c_bob"], true).unwrap();
    assert_eq!(
        *seen.borrow(),
        vec![2],
        "listener sees the list after the deletion"
    );
}

#[test]
fn login_errors_and_lifecycle() {
    let server = FakeServer::new();
    let alice = device(&server, "alice", IdStyle::Native);
    block_on(alice.engine.logout()).unwrap();
    let err = alice.delete(&["c2c_bob"], true).unwrap_err();
    assert_eq!(err.code, 6014);
    let login = |user: Arg, sig: &str| block_on(alice.engine.login(&user, &Arg::str(sig)));
    assert_eq!(login(Arg::str("alice"), "expired").unwrap_err().code, 70001);
    assert_eq!(login(Arg::str("alice"), "forged").unwrap_err().code, 70003);
    assert_eq!(login(Arg::str("al ice"), "valid").unwrap_err().code, 6017);
    assert_eq!(login(Arg::Null, "valid").unwrap_err().code, 6017);
    assert_eq!(alice.engine.login_user(), None);
    login(Arg::str("alice"), "valid").unwrap();
    assert_eq!(alice.engine.login_user().as_deref(), Some("alice"));
    block_on(alice.engine.destroy());
    assert_eq!(alice.delete(&["c2c_bob"], true).unwrap_err().code, 6013);
    assert_eq!(login(Arg::str("alice"), "valid").unwrap_err().code, 6013);
}

#[test]
fn storage_that_cannot_open_falls_back_to_memory() {
    struct Broken;
    #[async_trait::async_trait(?Send)]
    impl chat_core::store::StoreOpener for Broken {
        async fn open(
            &self,
            _: &chat_core::store::Namespace,
        ) -> chat_core::Result<Rc<dyn chat_core::store::Store>> {
            Err(chat_core::ChatError::database("blocked by the browser"))
        }
    }
    let server = FakeServer::new();
    let hooks = Rc::new(Recorder::default());
    let transport = Rc::new(support::fake_server::FakeTransport::new(server.clone()));
    let engine = chat_core::Engine::new(
        chat_core::EngineOptions {
            sdk_app_id: 1,
            style: IdStyle::Native,
        },
        transport,
        Rc::new(Broken),
        hooks.clone(),
    );
    block_on(engine.login(&Arg::str("alice"), &Arg::str("valid"))).unwrap();
    let events = hooks.take();
    assert!(
        matches!(&events[0], Event::StorageFallback(r) if r.contains("blocked by the browser")),
        "{events:?}"
    );
    assert_eq!(engine.login_user().as_deref(), Some("alice"));
}

/// A store whose load takes a turn of the event loop (as IndexedDB's does), noting how many
/// server calls had been made when it finished.
struct SlowLoad {
    inner: Rc<dyn chat_core::store::Store>,
    server: Rc<FakeServer>,
    calls_when_loaded: Rc<std::cell::Cell<usize>>,
}

#[async_trait::async_trait(?Send)]
impl chat_core::store::Store for SlowLoad {
    async fn load(&self) -> chat_core::Result<chat_core::store::Snapshot> {
        let mut waited = false;
        std::future::poll_fn(|cx| {
            if std::mem::replace(&mut waited, true) {
                return std::task::Poll::Ready(());
            }
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        })
        .await;
        self.calls_when_loaded.set(self.server.calls.get());
        self.inner.load().await
    }
    async fn cursor(&self) -> chat_core::Result<u64> {
        self.inner.cursor().await
    }
    async fn apply(&self, batch: &chat_core::store::StoreBatch) -> chat_core::Result<()> {
        self.inner.apply(batch).await
    }
    async fn messages(
        &self,
        id: &str,
        before: Option<u64>,
        count: usize,
    ) -> chat_core::Result<Vec<chat_core::Message>> {
        self.inner.messages(id, before, count).await
    }
    async fn close(&self) {
        self.inner.close().await
    }
}

struct SlowLoadOpener(Rc<FakeServer>, Rc<std::cell::Cell<usize>>);

#[async_trait::async_trait(?Send)]
impl chat_core::store::StoreOpener for SlowLoadOpener {
    async fn open(
        &self,
        namespace: &chat_core::store::Namespace,
    ) -> chat_core::Result<Rc<dyn chat_core::store::Store>> {
        Ok(Rc::new(SlowLoad {
            inner: MemoryOpener::default().open(namespace).await?,
            server: self.0.clone(),
            calls_when_loaded: self.1.clone(),
        }))
    }
}

#[test]
fn login_requests_the_changes_while_the_store_loads() {
    let server = FakeServer::new();
    let bob = device(&server, "bob", IdStyle::Native);
    bob.send("c2c_alice", "hi");
    let calls_when_loaded = Rc::new(std::cell::Cell::new(0));
    let opener = SlowLoadOpener(server.clone(), calls_when_loaded.clone());
    let before = server.calls.get();
    let alice = device_with_opener(&server, "alice", IdStyle::Native, Rc::new(opener));
    // Login's calls: POST /v1/login, then GET /v1/changes, sent before the load finished.
    assert_eq!(
        calls_when_loaded.get(),
        before + 2,
        "the sync request was in flight"
    );
    assert_eq!(alice.ids(), vec!["c2c_bob"], "and its reply applied");
}
