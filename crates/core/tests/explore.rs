//! A seeded schedule explorer: alice on two tabs of one device (one shared store, a tab channel)
//! and on a second device, plus the peer bob, against the fake server. Each schedule interleaves
//! at random: local calls, the server processing requests, replies delivered late, out of order
//! or lost (before or after the server applied them), pushes, dropped and reopened sockets, tab
//! messages, multi-page resets and a device that loses its storage (tab reloads: `RELOADS`).
//! After the system quiesces, every client's list, unread counts and cached history equal the server's view, and
//! `onConversationDeleted` never fired more often for a conversation than it was really deleted.
//!
//! `cargo test -p chat-core --test explore` runs `EXPLORE_SCHEDULES` (default 2000) seeds;
//! `EXPLORE_SEED=N` replays one seed and prints its schedule.

mod support;

use chat_core::error::{ChatError, ErrorCode, Result};
use chat_core::event::{Event, Hooks};
use chat_core::memory_store::MemoryOpener;
use chat_core::model::Conversation;
use chat_core::transport::Transport;
use chat_core::wire::*;
use chat_core::{Arg, ConversationId, Engine, EngineOptions, IdStyle};
use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use support::fake_server::FakeServer;

// ---------------------------------------------------------------------------------------------
// The network: every request waits in `Net::slots` until the schedule lets the server process
// it, then until the schedule delivers (or loses) its reply.

type Reply = Result<Box<dyn Any>>;
type Job = Box<dyn FnOnce(&FakeServer) -> Reply>;

enum SlotState {
    Waiting(Job),
    Processed(Reply),
    Delivered(Reply),
    Done,
}

struct Slot {
    client: usize,
    what: String,
    state: RefCell<SlotState>,
    waker: RefCell<Option<Waker>>,
}

impl Slot {
    fn deliver(&self, reply: Reply) {
        *self.state.borrow_mut() = SlotState::Delivered(reply);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

struct SlotFuture(Rc<Slot>);

impl Future for SlotFuture {
    type Output = Reply;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Reply> {
        let mut state = self.0.state.borrow_mut();
        if matches!(*state, SlotState::Delivered(_)) {
            let SlotState::Delivered(r) = std::mem::replace(&mut *state, SlotState::Done) else {
                unreachable!()
            };
            return Poll::Ready(r);
        }
        *self.0.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

struct Net {
    server: Rc<FakeServer>,
    slots: RefCell<Vec<Rc<Slot>>>,
}

struct NetTransport {
    net: Rc<Net>,
    client: usize,
    user: RefCell<Option<String>>,
    /// History calls fail as offline, so the engine answers from its store (for the checks).
    offline: Cell<bool>,
}

impl NetTransport {
    fn user(&self) -> Result<String> {
        self.user
            .borrow()
            .clone()
            .ok_or_else(|| ChatError::new(ErrorCode::UserSigInvalid, "no credentials"))
    }

    async fn call<T: 'static>(
        &self,
        what: String,
        job: impl FnOnce(&FakeServer, &str) -> Result<T> + 'static,
    ) -> Result<T> {
        let user = self.user()?;
        let slot = Rc::new(Slot {
            client: self.client,
            what,
            state: RefCell::new(SlotState::Waiting(Box::new(move |s: &FakeServer| {
                job(s, &user).map(|t| Box::new(t) as Box<dyn Any>)
            }))),
            waker: RefCell::new(None),
        });
        self.net.slots.borrow_mut().push(slot.clone());
        let reply = SlotFuture(slot).await?;
        Ok(*reply.downcast::<T>().expect("reply type"))
    }
}

#[async_trait::async_trait(?Send)]
impl Transport for NetTransport {
    async fn login(&self, request: &LoginRequest, _user_sig: &str) -> Result<LoginReply> {
        *self.user.borrow_mut() = Some(request.user_id.clone());
        Ok(LoginReply {
            user_id: request.user_id.clone(),
            server_time: 0,
            sync_conversation_deletion: self.net.server.sync_deletion.get(),
        })
    }
    fn logout(&self) {
        *self.user.borrow_mut() = None;
    }
    async fn get_conversation(&self, id: &str) -> Result<Conversation> {
        self.net.server.get_conversation(&self.user()?, id)
    }
    async fn delete_conversations(&self, request: &DeleteRequest) -> Result<DeleteReply> {
        let request = request.clone();
        let what = format!("delete {:?}", request.conversation_id_list);
        self.call(what, move |s, u| s.delete(u, &request)).await
    }
    async fn send_text(&self, request: &SendRequest) -> Result<SendReply> {
        let request = request.clone();
        let what = format!("send {}", request.conversation_id);
        self.call(what, move |s, u| {
            s.send(
                u,
                &ConversationId::parse(&request.conversation_id)?,
                &request.text,
            )
        })
        .await
    }
    async fn history(&self, id: &str, count: usize, before: Option<u64>) -> Result<HistoryReply> {
        if self.offline.get() {
            return Err(ChatError::new(ErrorCode::NetworkDisconnected, "offline"));
        }
        self.net.server.history(&self.user()?, id, count, before)
    }
    async fn mark_read(&self, id: &str) -> Result<ReadReply> {
        let id = id.to_owned();
        self.call(format!("read {id}"), move |s, u| s.mark_read(u, &id))
            .await
    }
    async fn changes(&self, since: u64, after: Option<&str>) -> Result<ChangesReply> {
        let after = after.map(str::to_owned);
        let what = format!("changes since={since} after={after:?}");
        self.call(what, move |s, u| Ok(s.changes(u, since, after.as_deref())))
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// Clients.

struct ClientHooks {
    user: String,
    server: Rc<FakeServer>,
    /// onConversationDeleted per conversation, checked against the server's real deletions.
    deleted: RefCell<HashMap<String, usize>>,
    violations: Rc<RefCell<Vec<String>>>,
    /// What this client posted to its other tabs, not yet moved into their queues.
    outbox: RefCell<Vec<Vec<ChangeEnvelope>>>,
    name: String,
}

impl Hooks for ClientHooks {
    fn emit(&self, event: Event) {
        if let Event::ConversationDeleted(ids) = event {
            for id in ids {
                let mut seen = self.deleted.borrow_mut();
                let n = seen.entry(id.clone()).or_default();
                *n += 1;
                let real = self
                    .server
                    .deletions
                    .borrow()
                    .get(&(self.user.clone(), id.clone()))
                    .copied()
                    .unwrap_or(0);
                if *n > real {
                    self.violations.borrow_mut().push(format!(
                        "{}: onConversationDeleted #{n} for {id}, but the server deleted it {real} time(s)",
                        self.name
                    ));
                }
            }
        }
    }
    fn share_with_tabs(&self, changes: &[ChangeEnvelope]) {
        self.outbox.borrow_mut().push(changes.to_vec());
    }
    fn log_error(&self, message: &str) {
        self.violations
            .borrow_mut()
            .push(format!("{}: log_error {message}", self.name));
    }
}

struct Client {
    name: String,
    user: String,
    engine: Engine,
    hooks: Rc<ClientHooks>,
    transport: Rc<NetTransport>,
    opener: Rc<MemoryOpener>,
    socket_open: Cell<bool>,
    pushes: RefCell<VecDeque<ChangeEnvelope>>,
    /// A push burst is being applied (the browser applies them one burst at a time).
    push_busy: Rc<Cell<bool>>,
    /// Tab messages from the other tab of the same device, in order.
    tab_inbox: RefCell<VecDeque<Vec<ChangeEnvelope>>>,
}

// ---------------------------------------------------------------------------------------------
// One schedule.

const ALICE_TARGETS: &[&str] = &["c2c_bob", "c2c_carol", "c2c_dave", "group_g"];
const BOB_TARGETS: &[&str] = &["c2c_alice", "group_g"];
/// Tab reloads: a new engine loads the store the other tab keeps writing from its own (possibly
/// older) knowledge. They found seeds 1090 (an older record written after a newer cursor), 1782
/// (a reset that did not remove what only the other tab had stored) and 2372 (a deletion written
/// without the record the other tab had stored); store writes are version-conditional since.
const RELOADS: bool = true;
const TAB_A1: usize = 0;
const TAB_A2: usize = 1;
const DEVICE_B: usize = 2;

struct World {
    rng: ChaCha8Rng,
    net: Rc<Net>,
    pool: LocalPool,
    clients: Vec<Rc<Client>>,
    violations: Rc<RefCell<Vec<String>>>,
    next_text: u64,
    /// The push routes (weak, so replaced clients drop out) and clients replaced meanwhile.
    routes: Option<Rc<RefCell<Vec<std::rc::Weak<Client>>>>>,
    retired: Vec<Rc<Client>>,
}

thread_local! {
    /// Replies without feedSeq, as from a server before it (see `old_server_schedules`).
    static OLD_SERVER: Cell<bool> = const { Cell::new(false) };
    /// What the current schedule did, printed when it fails.
    static TRACE: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn trace(line: String) {
    TRACE.with(|t| t.borrow_mut().push(line));
}

impl World {
    fn new(seed: u64) -> World {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let server = FakeServer::new();
        server.create_group("g", &["alice", "bob", "carol"]);
        server.sync_deletion.set(rng.random_bool(0.5));
        server.reset_page.set(rng.random_range(1..=3));
        server.old_server.set(OLD_SERVER.with(Cell::get));
        let net = Rc::new(Net {
            server: server.clone(),
            slots: RefCell::new(Vec::new()),
        });
        let mut world = World {
            rng,
            net,
            pool: LocalPool::new(),
            clients: Vec::new(),
            violations: Rc::default(),
            next_text: 0,
            routes: None,
            retired: Vec::new(),
        };
        let line = format!(
            "sync_deletion={} reset_page={} old_server={}",
            server.sync_deletion.get(),
            server.reset_page.get(),
            server.old_server.get()
        );
        trace(line);
        // Some history before alice's devices start, so some first syncs are non-empty resets.
        if world.rng.random_bool(0.5) {
            let to_alice = ConversationId::c2c("alice");
            server.send("carol", &to_alice, "before").unwrap();
        }
        let device_a = Rc::new(MemoryOpener::default());
        for (i, (name, user)) in [
            ("alice-tab1", "alice"),
            ("alice-tab2", "alice"),
            ("alice-device2", "alice"),
            ("bob", "bob"),
        ]
        .iter()
        .enumerate()
        {
            let opener = if i <= TAB_A2 {
                device_a.clone()
            } else {
                Rc::new(MemoryOpener::default())
            };
            let client = world.make_client(i, name, user, opener);
            world.clients.push(client);
        }
        // Route pushes to the open sockets of the user's clients.
        let clients: Vec<std::rc::Weak<Client>> = world.clients.iter().map(Rc::downgrade).collect();
        let clients = Rc::new(RefCell::new(clients));
        let routes = clients.clone();
        *server.on_push.borrow_mut() = Some(Box::new(move |user, env| {
            for c in routes.borrow().iter().filter_map(|w| w.upgrade()) {
                if c.user == user && c.socket_open.get() {
                    c.pushes.borrow_mut().push_back(env.clone());
                }
            }
        }));
        world.routes = Some(clients);
        world
    }
}

// `routes` is kept in a side table so clients replaced later still receive pushes.
impl World {
    fn make_client(
        &mut self,
        index: usize,
        name: &str,
        user: &str,
        opener: Rc<MemoryOpener>,
    ) -> Rc<Client> {
        let hooks = Rc::new(ClientHooks {
            user: user.into(),
            server: self.net.server.clone(),
            deleted: RefCell::default(),
            violations: self.violations.clone(),
            outbox: RefCell::default(),
            name: name.into(),
        });
        let transport = Rc::new(NetTransport {
            net: self.net.clone(),
            client: index,
            user: RefCell::new(None),
            offline: Cell::new(false),
        });
        let engine = Engine::new(
            EngineOptions {
                sdk_app_id: 1400000001,
                style: IdStyle::Native,
            },
            transport.clone(),
            opener.clone(),
            hooks.clone(),
        );
        let client = Rc::new(Client {
            name: name.into(),
            user: user.into(),
            engine: engine.clone(),
            hooks,
            transport,
            opener,
            socket_open: Cell::new(false),
            pushes: RefCell::default(),
            push_busy: Rc::default(),
            tab_inbox: RefCell::default(),
        });
        // Login (and its sync), then the socket opens and syncs again.
        let c = client.clone();
        let user = user.to_owned();
        self.spawn(async move {
            let _ = c.engine.login(&Arg::str(&user), &Arg::str("valid")).await;
            c.socket_open.set(true);
            let _ = c.engine.sync().await;
        });
        client
    }

    fn spawn(&self, f: impl Future<Output = ()> + 'static) {
        self.pool.spawner().spawn_local(f).expect("spawn");
    }

    fn run(&mut self) {
        self.pool.run_until_stalled();
        // Tab messages posted meanwhile go to the other tab of the same device.
        for (from, to) in [(TAB_A1, TAB_A2), (TAB_A2, TAB_A1)] {
            let out = std::mem::take(&mut *self.clients[from].hooks.outbox.borrow_mut());
            self.clients[to].tab_inbox.borrow_mut().extend(out);
        }
        for c in &self.clients[DEVICE_B..] {
            c.hooks.outbox.borrow_mut().clear();
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            Some(&items[self.rng.random_range(0..items.len())])
        }
    }

    fn text(&mut self) -> String {
        self.next_text += 1;
        format!("t{}", self.next_text)
    }

    /// One random step; `chaos` allows lost replies and dropped sockets.
    fn step(&mut self, chaos: bool) {
        let roll = self.rng.random_range(0..100);
        let ci = self.rng.random_range(0..self.clients.len());
        let client = self.clients[ci].clone();
        match roll {
            0..=11 => {
                let targets = if client.user == "alice" {
                    ALICE_TARGETS
                } else {
                    BOB_TARGETS
                };
                let to = self.pick(targets).unwrap().to_string();
                let text = self.text();
                trace(format!("{}: send {to} {text}", client.name));
                self.spawn(async move {
                    let _ = client
                        .engine
                        .send_text_message(&Arg::str(&to), &Arg::str(&text))
                        .await;
                });
            }
            12..=16 => {
                // carol and dave write to alice directly through the server.
                let from = *self.pick(&["carol", "dave"]).unwrap();
                let to = if from == "carol" && self.rng.random_bool(0.5) {
                    ConversationId::group("g")
                } else {
                    ConversationId::c2c("alice")
                };
                let text = self.text();
                trace(format!("{from} sends to {to:?} {text}"));
                let _ = self.net.server.send(from, &to, &text);
            }
            17..=22 => {
                let id = self.known_id(&client);
                trace(format!("{}: read {id}", client.name));
                self.spawn(async move {
                    let _ = client
                        .engine
                        .clean_conversation_unread_message_count(&Arg::str(&id))
                        .await;
                });
            }
            23..=28 => {
                let mut ids = vec![self.known_id(&client)];
                if self.rng.random_bool(0.3) {
                    ids.push(self.known_id(&client));
                }
                let clear = self.rng.random_bool(0.5);
                trace(format!("{}: delete {ids:?} clear={clear}", client.name));
                self.spawn(async move {
                    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                    let _ = client
                        .engine
                        .delete_conversation_list(&Arg::strings(&ids), &Arg::Bool(clear))
                        .await;
                });
            }
            29..=48 => self.process_one(chaos),
            49..=68 => self.deliver_one(chaos),
            69..=80 => self.deliver_pushes(ci),
            81..=88 => self.deliver_tab_message(),
            89..=92 if chaos => {
                trace(format!("{}: socket drops", client.name));
                self.drop_socket(&client);
            }
            93..=95 => self.reopen(&client),
            96..=97 if chaos && ci <= TAB_A2 && RELOADS => self.reload_tab(ci),
            98..=99 if chaos && ci == DEVICE_B => self.fresh_device(),
            _ => {}
        }
        self.run();
    }

    /// A conversation ID the client can name: one it lists, or a likely one.
    fn known_id(&mut self, client: &Client) -> String {
        let listed = client
            .engine
            .get_conversation_list(&Arg::Number(0.0), &Arg::Number(100.0));
        let listed: Vec<String> = futures::executor::block_on(listed)
            .map(|p| p.conversation_list)
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.conversation_id)
            .collect();
        if !listed.is_empty() && self.rng.random_bool(0.8) {
            return self.pick(&listed).unwrap().clone();
        }
        let targets = if client.user == "alice" {
            ALICE_TARGETS
        } else {
            BOB_TARGETS
        };
        self.pick(targets).unwrap().to_string()
    }

    fn waiting(&self) -> Vec<Rc<Slot>> {
        self.net
            .slots
            .borrow()
            .iter()
            .filter(|s| matches!(*s.state.borrow(), SlotState::Waiting(_)))
            .cloned()
            .collect()
    }

    fn processed(&self) -> Vec<Rc<Slot>> {
        self.net
            .slots
            .borrow()
            .iter()
            .filter(|s| matches!(*s.state.borrow(), SlotState::Processed(_)))
            .cloned()
            .collect()
    }

    fn process_one(&mut self, chaos: bool) {
        let waiting = self.waiting();
        let Some(slot) = self.pick(&waiting).cloned() else {
            return;
        };
        let lost = chaos && self.rng.random_bool(0.05);
        let name = self.clients[slot.client].name.clone();
        let state = std::mem::replace(&mut *slot.state.borrow_mut(), SlotState::Done);
        let SlotState::Waiting(job) = state else {
            unreachable!()
        };
        if lost {
            // The request never reached the server.
            trace(format!("{name}: {} lost on the way", slot.what));
            slot.deliver(Err(ChatError::new(ErrorCode::NetworkDisconnected, "lost")));
        } else {
            trace(format!("server processes {name}: {}", slot.what));
            *slot.state.borrow_mut() = SlotState::Processed(job(&self.net.server));
        }
    }

    fn deliver_one(&mut self, chaos: bool) {
        let processed = self.processed();
        let Some(slot) = self.pick(&processed).cloned() else {
            return;
        };
        let name = self.clients[slot.client].name.clone();
        let state = std::mem::replace(&mut *slot.state.borrow_mut(), SlotState::Done);
        let SlotState::Processed(reply) = state else {
            unreachable!()
        };
        if chaos && self.rng.random_bool(0.05) {
            // Applied by the server, but the reply never arrives (a timeout).
            trace(format!("{name}: reply to {} lost", slot.what));
            slot.deliver(Err(ChatError::new(ErrorCode::RequestTimeout, "lost")));
        } else {
            trace(format!("{name}: reply to {} arrives", slot.what));
            slot.deliver(reply);
        }
        self.net
            .slots
            .borrow_mut()
            .retain(|s| !matches!(*s.state.borrow(), SlotState::Done));
    }

    fn deliver_pushes(&mut self, ci: usize) {
        let client = self.clients[ci].clone();
        if client.push_busy.get() || client.pushes.borrow().is_empty() {
            return;
        }
        let n = self.rng.random_range(1..=client.pushes.borrow().len());
        let burst: Vec<ChangeEnvelope> = client.pushes.borrow_mut().drain(..n).collect();
        let seqs: Vec<u64> = burst.iter().map(|e| e.seq).collect();
        trace(format!("{}: pushes {seqs:?} arrive", client.name));
        client.push_busy.set(true);
        self.spawn(async move {
            client.engine.on_pushes(burst).await;
            client.push_busy.set(false);
        });
    }

    fn deliver_tab_message(&mut self) {
        let tab = if self.rng.random_bool(0.5) {
            TAB_A1
        } else {
            TAB_A2
        };
        let client = self.clients[tab].clone();
        let Some(msg) = client.tab_inbox.borrow_mut().pop_front() else {
            return;
        };
        trace(format!(
            "{}: tab message {:?}",
            client.name,
            msg.iter().map(|e| e.seq).collect::<Vec<_>>()
        ));
        self.spawn(async move {
            client.engine.on_tab_changes(msg).await;
        });
    }

    fn drop_socket(&mut self, client: &Rc<Client>) {
        if !client.socket_open.replace(false) {
            return;
        }
        client.pushes.borrow_mut().clear();
        // The browser syncs after a close to learn why.
        let c = client.clone();
        self.spawn(async move {
            let _ = c.engine.sync().await;
        });
    }

    fn reopen(&mut self, client: &Rc<Client>) {
        if client.socket_open.get() || client.engine.login_user().is_none() {
            return;
        }
        trace(format!("{}: socket reopens", client.name));
        client.socket_open.set(true);
        let c = client.clone();
        self.spawn(async move {
            let _ = c.engine.sync().await;
        });
    }

    /// A tab reloads: a new engine on the same (shared) store.
    fn reload_tab(&mut self, ci: usize) {
        let old = self.clients[ci].clone();
        trace(format!("{}: reloads", old.name));
        self.retire(&old);
        let fresh = self.make_client(ci, &old.name, "alice", old.opener.clone());
        self.clients[ci] = fresh;
        self.reroute();
    }

    /// The second device clears its site data and logs in again (a reset from cursor 0).
    fn fresh_device(&mut self) {
        let old = self.clients[DEVICE_B].clone();
        trace(format!("{}: loses its storage", old.name));
        self.retire(&old);
        let fresh = self.make_client(DEVICE_B, &old.name, "alice", Rc::default());
        self.clients[DEVICE_B] = fresh;
        self.reroute();
    }

    fn retire(&mut self, old: &Rc<Client>) {
        old.socket_open.set(false);
        old.pushes.borrow_mut().clear();
        let engine = old.engine.clone();
        self.spawn(async move { engine.destroy().await });
        self.retired.push(old.clone());
    }

    fn reroute(&mut self) {
        if let Some(routes) = &self.routes {
            *routes.borrow_mut() = self.clients.iter().map(Rc::downgrade).collect();
        }
    }

    /// Delivers everything until nothing moves: requests, replies, pushes, tab messages; sockets
    /// reopen (and sync).
    fn quiesce(&mut self) {
        for _ in 0..1000 {
            self.run();
            let mut moved = false;
            while !self.waiting().is_empty() {
                self.process_one(false);
                moved = true;
            }
            while !self.processed().is_empty() {
                self.deliver_one(false);
                self.run();
                moved = true;
            }
            for ci in 0..self.clients.len() {
                let c = self.clients[ci].clone();
                if !c.pushes.borrow().is_empty() && !c.push_busy.get() {
                    self.deliver_pushes(ci);
                    moved = true;
                }
                if !c.socket_open.get() && c.engine.login_user().is_some() {
                    self.reopen(&c);
                    moved = true;
                }
            }
            while self.clients[TAB_A1].tab_inbox.borrow().len()
                + self.clients[TAB_A2].tab_inbox.borrow().len()
                > 0
            {
                self.deliver_tab_message();
                self.run();
                moved = true;
            }
            self.run();
            if !moved {
                return;
            }
        }
        panic!("the system did not quiesce");
    }

    fn check(&mut self) {
        for c in self.clients.clone() {
            let server_list = self.net.server.list(&c.user);
            let engine = &c.engine;
            let page = futures::executor::block_on(
                engine.get_conversation_list(&Arg::Number(0.0), &Arg::Number(100.0)),
            )
            .expect("list");
            let summary = |l: &[Conversation]| -> Vec<(String, u32, u64, u64)> {
                l.iter()
                    .map(|c| {
                        (
                            c.conversation_id.clone(),
                            c.unread_count,
                            c.last_seq(),
                            c.order_key,
                        )
                    })
                    .collect()
            };
            assert_eq!(
                summary(&page.conversation_list),
                summary(&server_list),
                "{}: list (id, unread, last seq, order) differs from the server's",
                c.name
            );
            let total = futures::executor::block_on(engine.get_total_unread_message_count())
                .expect("total");
            let server_total: u64 = server_list.iter().map(|c| u64::from(c.unread_count)).sum();
            assert_eq!(total, server_total, "{}: total unread", c.name);
            // Cached history (offline) shows only what the server shows this user.
            c.transport.offline.set(true);
            for id in ALICE_TARGETS.iter().chain(BOB_TARGETS) {
                if c.user == "bob" && *id == "c2c_bob" {
                    continue;
                }
                let local = futures::executor::block_on(engine.get_history_message_list(
                    &Arg::str(id),
                    &Arg::Number(100.0),
                    &Arg::Undefined,
                ))
                .expect("history");
                let server = self
                    .net
                    .server
                    .history(&c.user, id, 100, None)
                    .expect("server history")
                    .message_list;
                for m in &local {
                    assert!(
                        server.contains(m),
                        "{}: cached message {} (seq {}) of {id} is not visible on the server",
                        c.name,
                        m.text,
                        m.seq
                    );
                }
            }
            c.transport.offline.set(false);
        }
        // The shared store of alice's first device holds what the server shows.
        let snapshot = futures::executor::block_on(async {
            let store = chat_core::store::StoreOpener::open(
                &*self.clients[TAB_A1].opener,
                &chat_core::store::Namespace {
                    sdk_app_id: 1400000001,
                    user_id: "alice".into(),
                },
            )
            .await
            .unwrap();
            store.load().await.unwrap()
        });
        let mut stored: Vec<String> = snapshot
            .conversations
            .iter()
            .map(|c| c.conversation_id.clone())
            .collect();
        stored.sort();
        assert_eq!(stored, self.net.server.live_ids("alice"), "tab store");
        let violations = self.violations.borrow();
        assert!(violations.is_empty(), "{violations:#?}");
    }
}

fn run_schedule(seed: u64, steps: usize) -> World {
    TRACE.with(|t| t.borrow_mut().clear());
    let mut world = World::new(seed);
    world.run();
    for i in 0..steps {
        world.step(i + 10 < steps);
    }
    world.quiesce();
    // A last reconnect of every socket (a sync), as a client that comes back online does.
    for c in world.clients.clone() {
        world.drop_socket(&c);
    }
    world.quiesce();
    world.check();
    world
}

#[test]
fn random_schedules_converge() {
    let steps = 60;
    if let Ok(seed) = std::env::var("EXPLORE_SEED") {
        OLD_SERVER.with(|o| o.set(std::env::var("EXPLORE_OLD_SERVER").is_ok()));
        let seed: u64 = seed.parse().expect("EXPLORE_SEED is a number");
        let result = std::panic::catch_unwind(|| run_schedule(seed, steps));
        let lines = TRACE.with(|t| t.borrow().join("\n  "));
        eprintln!("schedule of seed {seed}:\n  {lines}");
        assert!(result.is_ok(), "EXPLORE_SEED={seed} failed");
        return;
    }
    let count: u64 = std::env::var("EXPLORE_SCHEDULES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let base: u64 = std::env::var("EXPLORE_BASE")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    for seed in base..base + count {
        let result = std::panic::catch_unwind(|| run_schedule(seed, steps));
        if result.is_err() {
            panic!(
                "schedule {seed} failed; replay it with: EXPLORE_SEED={seed} cargo test -p chat-core --test explore"
            );
        }
    }
}

/// Against a server that sends no feedSeq in its replies, the client falls back to protecting
/// its own changes from resets requested before them. That covers the sequences (see
/// sync_race.rs) but not every interleaving: a change without a seq cannot be ordered against
/// the feed, so some schedules (e.g. another tab's stale deletion during a multi-page reset)
/// diverge until the next reset. Kept to measure the fallback: `cargo test -- --ignored`.
#[test]
#[ignore = "the feedSeq-less fallback is best effort; see the comment"]
fn old_server_schedules() {
    OLD_SERVER.with(|o| o.set(true));
    let count: u64 = std::env::var("EXPLORE_SCHEDULES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    for seed in 1..=count {
        let result = std::panic::catch_unwind(|| run_schedule(seed, 60));
        if result.is_err() {
            panic!(
                "old-server schedule {seed} failed; replay it with: EXPLORE_OLD_SERVER=1 EXPLORE_SEED={seed} cargo test -p chat-core --test explore random"
            );
        }
    }
}
