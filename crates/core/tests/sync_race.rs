//! Issue 14: a sync reply never undoes a newer change. Each test holds the reply of the first
//! sync (a reset from cursor 0) while the user changes something, then delivers it, then the
//! push of that change (held during the sync), then syncs again as a reconnect does. Each runs
//! against a server that reports feedSeq and one that does not (`old_server`).

mod support;

use chat_core::event::Event;
use chat_core::memory_store::MemoryOpener;
use chat_core::{Arg, Engine, EngineOptions, IdStyle};
use std::future::Future;
use std::rc::Rc;
use support::fake_server::{FakeServer, FakeTransport};
use support::*;

/// Logs `user` in on a fresh device whose first sync reply is computed, then held while
/// `during` runs (its pushes reach the engine meanwhile and are held too), then delivered.
fn login_while_first_sync_is_held<F>(
    server: &Rc<FakeServer>,
    user: &str,
    during: impl FnOnce(Engine) -> F,
) -> Device
where
    F: Future<Output = ()>,
{
    let hooks = Rc::new(Recorder::default());
    let transport = Rc::new(FakeTransport::new(server.clone()));
    server.connect(&transport);
    let gate = Rc::new(futures_util::lock::Mutex::new(()));
    *transport.gate.borrow_mut() = Some(gate.clone());
    let guard = gate.try_lock().expect("fresh lock");
    let engine = Engine::new(
        EngineOptions {
            sdk_app_id: 1400000001,
            style: IdStyle::Native,
        },
        transport.clone(),
        Rc::new(MemoryOpener::default()),
        hooks.clone(),
    );
    let (user_arg, sig) = (Arg::str(user), Arg::str("valid"));
    let login = engine.login(&user_arg, &sig);
    let user_side = {
        let (engine, transport) = (engine.clone(), transport.clone());
        async move {
            during(engine.clone()).await;
            // The push of the change arrives while the sync is still in flight.
            engine.on_pushes(transport.take_pushes()).await;
            drop(guard);
        }
    };
    let (logged_in, ()) = block_on(futures::future::join(login, user_side));
    logged_in.expect("login");
    *transport.gate.borrow_mut() = None;
    Device {
        engine,
        hooks,
        transport,
    }
}

fn assert_no_deleted_event(d: &Device) {
    assert!(
        d.hooks.deleted_ids().is_empty(),
        "nobody deleted anything: {:?}",
        d.hooks.events.borrow()
    );
}

#[test]
fn a_send_during_a_held_reset_is_not_undone() {
    for old_server in [false, true] {
        a_send_during_a_held_reset_is_not_undone_on(old_server);
    }
}

fn a_send_during_a_held_reset_is_not_undone_on(old_server: bool) {
    let server = FakeServer::new();
    server.old_server.set(old_server);
    let alice = login_while_first_sync_is_held(&server, "alice", |engine| async move {
        engine
            .send_text_message(&Arg::str("c2c_v"), &Arg::str("hello"))
            .await
            .expect("send");
        let list = engine
            .get_conversation_list(&Arg::Number(0.0), &Arg::Number(10.0))
            .await
            .unwrap();
        assert_eq!(
            list.conversation_list.len(),
            1,
            "listed once the send resolves"
        );
    });
    assert_eq!(alice.ids(), vec!["c2c_v"]);
    assert_no_deleted_event(&alice);
    alice.deliver_pushes();
    alice.sync(); // a reconnect
    assert_eq!(alice.ids(), vec!["c2c_v"]);
    assert_eq!(alice.history("c2c_v"), vec!["hello"]);
    assert_no_deleted_event(&alice);
    // The peer's reply still arrives as a new message in the listed conversation.
    let v = device(&server, "v", IdStyle::Native);
    v.send("c2c_alice", "hi back");
    alice.deliver_pushes();
    assert_eq!(alice.total_unread(), 1);
}

#[test]
fn a_read_mark_during_a_held_sync_is_not_rolled_back() {
    for old_server in [false, true] {
        a_read_mark_during_a_held_sync_is_not_rolled_back_on(old_server);
    }
}

fn a_read_mark_during_a_held_sync_is_not_rolled_back_on(old_server: bool) {
    let server = FakeServer::new();
    server.old_server.set(old_server);
    let v = device(&server, "v", IdStyle::Native);
    v.send("c2c_alice", "1");
    v.send("c2c_alice", "2");
    let alice = login_while_first_sync_is_held(&server, "alice", |engine| async move {
        // The conversation is not known locally yet: the read mark's reply brings it.
        engine
            .clean_conversation_unread_message_count(&Arg::str("c2c_v"))
            .await
            .expect("read");
    });
    assert_eq!(alice.ids(), vec!["c2c_v"]);
    assert_eq!(alice.total_unread(), 0, "the snapshot (2 unread) is older");
    alice.deliver_pushes();
    alice.sync();
    assert_eq!(alice.total_unread(), 0);
    assert!(!alice
        .hooks
        .events
        .borrow()
        .iter()
        .any(|e| matches!(e, Event::TotalUnreadChanged(n) if *n > 0)));
    assert_no_deleted_event(&alice);
}

#[test]
fn a_delete_during_a_held_sync_is_not_undone() {
    for sync_deletion in [false, true] {
        for old_server in [false, true] {
            a_delete_during_a_held_sync_on(sync_deletion, old_server);
        }
    }
}

fn a_delete_during_a_held_sync_on(sync_deletion: bool, old_server: bool) {
    let server = FakeServer::new();
    server.sync_deletion.set(sync_deletion);
    server.old_server.set(old_server);
    let v = device(&server, "v", IdStyle::Native);
    v.send("c2c_alice", "1");
    let w = device(&server, "w", IdStyle::Native);
    w.send("c2c_alice", "2");
    // A fresh device's first sync (a reset listing both) is held while the user deletes one.
    let alice = login_while_first_sync_is_held(&server, "alice", |engine| async move {
        let results = engine
            .delete_conversation_list(&Arg::strings(&["c2c_v"]), &Arg::Bool(true))
            .await
            .expect("delete");
        assert_eq!(results[0].result_code, 0);
    });
    assert_eq!(alice.ids(), vec!["c2c_w"], "sync deletion {sync_deletion}");
    alice.deliver_pushes();
    alice.sync();
    assert_eq!(alice.ids(), vec!["c2c_w"]);
    assert_eq!(alice.hooks.deleted_ids(), vec!["c2c_v"], "fired once");
    assert_eq!(server.live_ids("alice"), vec!["c2c_w"]);
}

#[test]
fn a_paginated_reset_is_applied_whole_and_caught_up() {
    let server = FakeServer::new();
    server.reset_page.set(2);
    let alice = device(&server, "alice", IdStyle::Native);
    let peers: Vec<Device> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|p| device(&server, p, IdStyle::Native))
        .collect();
    for p in &peers {
        p.send("c2c_alice", "hi");
    }
    alice.deliver_pushes();
    assert_eq!(alice.ids().len(), 5);
    // A second device reads the reset in three pages; between the first and the next pages,
    // the first device deletes c2c_e and a peer writes again to c2c_a (already read).
    let calls = Rc::new(std::cell::Cell::new(0));
    let hook_server = server.clone();
    let seen = calls.clone();
    let alice2 = {
        let hooks = Rc::new(Recorder::default());
        let transport = Rc::new(FakeTransport::new(server.clone()));
        server.connect(&transport);
        *transport.during_changes.borrow_mut() = Some(Box::new(move || {
            seen.set(seen.get() + 1);
            if seen.get() == 1 {
                let req = chat_core::wire::DeleteRequest {
                    conversation_id_list: vec!["c2c_e".into()],
                    clear_message: false,
                };
                hook_server.delete("alice", &req).unwrap();
                let to_alice = chat_core::ConversationId::c2c("alice");
                hook_server.send("a", &to_alice, "again").unwrap();
            }
        }));
        let engine = Engine::new(
            EngineOptions {
                sdk_app_id: 1400000001,
                style: IdStyle::Native,
            },
            transport.clone(),
            Rc::new(MemoryOpener::default()),
            hooks.clone(),
        );
        block_on(engine.login(&Arg::str("alice"), &Arg::str("valid"))).unwrap();
        Device {
            engine,
            hooks,
            transport,
        }
    };
    assert_eq!(
        calls.get(),
        3,
        "two pages (c2c_e is gone by then) and a catch-up"
    );
    let server_ids: Vec<String> = server
        .list("alice")
        .into_iter()
        .map(|c| c.conversation_id)
        .collect();
    assert_eq!(alice2.ids(), server_ids);
    assert_eq!(alice2.ids()[0], "c2c_a", "the newer message was caught up");
    assert_eq!(alice2.total_unread(), 5);
    assert!(alice2.hooks.deleted_ids().is_empty(), "never listed here");
}
