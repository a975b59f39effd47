//! Test support: an in-process fake chat server (a `Transport` per device), a recording `Hooks`,
//! and a small harness to build logged-in engines. Fakes are for the core's unit tests only; the
//! real server has its own tests over HTTP.
#![allow(dead_code)]

pub mod fake_server;

use chat_core::event::{Event, Hooks};
use chat_core::memory_store::MemoryOpener;
use chat_core::store::StoreOpener;
use chat_core::wire::ChangeEnvelope;
use chat_core::{Arg, Engine, EngineOptions, IdStyle};
use fake_server::{FakeServer, FakeTransport};
use std::cell::RefCell;
use std::rc::Rc;

type EmitProbe = Box<dyn Fn(&Event)>;

#[derive(Default)]
pub struct Recorder {
    pub events: RefCell<Vec<Event>>,
    pub shared: RefCell<Vec<Vec<ChangeEnvelope>>>,
    pub errors: RefCell<Vec<String>>,
    /// Runs inside `emit`, to prove listeners may call back into the engine.
    pub on_emit: RefCell<Option<EmitProbe>>,
}

impl Hooks for Recorder {
    fn emit(&self, event: Event) {
        if let Some(f) = self.on_emit.borrow().as_ref() {
            f(&event);
        }
        self.events.borrow_mut().push(event);
    }
    fn share_with_tabs(&self, changes: &[ChangeEnvelope]) {
        self.shared.borrow_mut().push(changes.to_vec());
    }
    fn log_error(&self, message: &str) {
        self.errors.borrow_mut().push(message.to_owned());
    }
}

impl Recorder {
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.borrow_mut())
    }

    /// Every ID reported by onConversationDeleted so far.
    pub fn deleted_ids(&self) -> Vec<String> {
        self.events
            .borrow()
            .iter()
            .filter_map(|e| match e {
                Event::ConversationDeleted(ids) => Some(ids.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    pub fn unread_totals(&self) -> Vec<u64> {
        self.events
            .borrow()
            .iter()
            .filter_map(|e| match e {
                Event::TotalUnreadChanged(n) => Some(*n),
                _ => None,
            })
            .collect()
    }
}

pub struct Device {
    pub engine: Engine,
    pub hooks: Rc<Recorder>,
    pub transport: Rc<FakeTransport>,
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

pub fn device(server: &Rc<FakeServer>, user: &str, style: IdStyle) -> Device {
    device_with_opener(server, user, style, Rc::new(MemoryOpener::default()))
}

pub fn device_with_opener(
    server: &Rc<FakeServer>,
    user: &str,
    style: IdStyle,
    opener: Rc<dyn StoreOpener>,
) -> Device {
    let hooks = Rc::new(Recorder::default());
    let transport = Rc::new(FakeTransport::new(server.clone()));
    server.connect(&transport);
    let engine = Engine::new(
        EngineOptions {
            sdk_app_id: 1400000001,
            style,
        },
        transport.clone(),
        opener,
        hooks.clone(),
    );
    block_on(engine.login(&Arg::str(user), &Arg::str("valid"))).expect("login");
    hooks.take();
    Device {
        engine,
        hooks,
        transport,
    }
}

impl Device {
    pub fn ids(&self) -> Vec<String> {
        block_on(
            self.engine
                .get_conversation_list(&Arg::Number(0.0), &Arg::Number(100.0)),
        )
        .expect("list")
        .conversation_list
        .into_iter()
        .map(|c| c.conversation_id)
        .collect()
    }

    pub fn total_unread(&self) -> u64 {
        block_on(self.engine.get_total_unread_message_count()).expect("unread")
    }

    pub fn send(&self, to: &str, text: &str) -> chat_core::Message {
        block_on(
            self.engine
                .send_text_message(&Arg::str(to), &Arg::str(text)),
        )
        .expect("send")
    }

    pub fn delete(
        &self,
        ids: &[&str],
        clear: bool,
    ) -> chat_core::Result<Vec<chat_core::ConversationOperationResult>> {
        block_on(
            self.engine
                .delete_conversation_list(&Arg::strings(ids), &Arg::Bool(clear)),
        )
    }

    pub fn history(&self, id: &str) -> Vec<String> {
        block_on(self.engine.get_history_message_list(
            &Arg::str(id),
            &Arg::Number(100.0),
            &Arg::Undefined,
        ))
        .expect("history")
        .into_iter()
        .map(|m| m.text)
        .collect()
    }

    /// Delivers the pushes the server queued for this device one by one, as a WebSocket would.
    pub fn deliver_pushes(&self) {
        for env in self.transport.take_pushes() {
            block_on(self.engine.on_pushes(vec![env]));
        }
    }

    /// Delivers the queued pushes as one burst (as the browser does when frames arrive together).
    pub fn deliver_pushes_together(&self) {
        block_on(self.engine.on_pushes(self.transport.take_pushes()));
    }

    pub fn sync(&self) {
        block_on(self.engine.sync()).expect("sync");
    }
}
