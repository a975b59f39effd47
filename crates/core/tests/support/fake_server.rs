//! A small in-memory model of chat-server's conversation rules, enough to drive the engine.

use chat_core::error::{ChatError, ErrorCode, Result};
use chat_core::model::{Conversation, ConversationOperationResult, Message};
use chat_core::transport::Transport;
use chat_core::wire::*;
use chat_core::ConversationId;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

#[derive(Clone, Default)]
struct Entry {
    live: bool,
    cleared: u64,
    unread: u32,
    order_key: u64,
}

/// (sender, text, order key) of one message; its seq is its index + 1.
type Stored = (String, String, u64);

#[derive(Default)]
pub struct FakeServer {
    /// thread key -> messages (seq = index + 1), as (sender, text, order_key).
    threads: RefCell<HashMap<String, Vec<Stored>>>,
    /// (user, canonical id) -> entry
    entries: RefCell<BTreeMap<(String, String), Entry>>,
    feeds: RefCell<HashMap<String, Vec<ChangeEnvelope>>>,
    groups: RefCell<HashMap<String, Vec<String>>>,
    order: Cell<u64>,
    pub sync_deletion: Cell<bool>,
    pub fail_next: RefCell<Option<ChatError>>,
    pub calls: Cell<usize>,
    transports: RefCell<Vec<std::rc::Weak<FakeTransport>>>,
    /// Conversations per reset page (`MAX_RESET_PAGE` unless a test makes it small).
    pub reset_page: Cell<usize>,
    /// Sees every pushed envelope with its user (the explorer's WebSockets).
    pub on_push: RefCell<Option<PushHook>>,
    /// Per (user, canonical id): how many times it went from live to deleted.
    pub deletions: RefCell<HashMap<(String, String), usize>>,
    /// Answer like a server from before feedSeq: every reply's `feedSeq` is 0.
    pub old_server: Cell<bool>,
    /// Messages per history page before it is cut as by the server's byte budget (`hasMore`);
    /// 0: never cut.
    pub history_cut: Cell<usize>,
}

use chat_core::rules::thread_key;

pub type PushHook = Box<dyn Fn(&str, &ChangeEnvelope)>;

impl FakeServer {
    pub fn new() -> Rc<FakeServer> {
        let server = FakeServer::default();
        server.reset_page.set(MAX_RESET_PAGE);
        Rc::new(server)
    }

    pub fn create_group(&self, group: &str, members: &[&str]) {
        self.groups.borrow_mut().insert(
            group.into(),
            members.iter().map(|s| s.to_string()).collect(),
        );
    }

    pub fn fail_next(&self, code: ErrorCode) {
        *self.fail_next.borrow_mut() = Some(ChatError::new(code, "injected failure"));
    }

    pub fn live_ids(&self, user: &str) -> Vec<String> {
        self.entries
            .borrow()
            .iter()
            .filter(|((u, _), e)| u == user && e.live)
            .map(|((_, id), _)| id.clone())
            .collect()
    }

    fn view(&self, user: &str, id: &ConversationId) -> Conversation {
        let canonical = id.canonical();
        let entry = self.entries.borrow()[&(user.to_owned(), canonical.clone())].clone();
        let threads = self.threads.borrow();
        let msgs = threads
            .get(&thread_key(user, id))
            .cloned()
            .unwrap_or_default();
        let last = msgs.len() as u64;
        let last_message =
            (last > entry.cleared).then(|| self.message(id, &msgs[last as usize - 1], last));
        Conversation {
            conversation_id: canonical,
            kind: id.kind() as u8,
            user_id: matches!(id, ConversationId::C2c(_)).then(|| id.target().to_owned()),
            group_id: matches!(id, ConversationId::Group(_)).then(|| id.target().to_owned()),
            show_name: id.target().to_owned(),
            unread_count: entry.unread,
            last_message,
            order_key: entry.order_key,
        }
    }

    fn message(&self, id: &ConversationId, m: &(String, String, u64), seq: u64) -> Message {
        Message {
            msg_id: format!("m{}", m.2),
            conversation_id: id.canonical(),
            sender: m.0.clone(),
            text: m.1.clone(),
            timestamp: 1_700_000_000_000 + m.2,
            seq,
        }
    }

    fn reported(&self, feed_seq: u64) -> u64 {
        if self.old_server.get() {
            0
        } else {
            feed_seq
        }
    }

    /// Appends to the user's feed (pushing it when `push`); returns the entry's seq.
    fn append(&self, user: &str, change: Change, push: bool) -> u64 {
        let env = {
            let mut feeds = self.feeds.borrow_mut();
            let feed = feeds.entry(user.to_owned()).or_default();
            let env = ChangeEnvelope {
                seq: feed.len() as u64 + 1,
                change,
            };
            feed.push(env.clone());
            env
        };
        if push {
            for t in self.transports.borrow().iter().filter_map(|w| w.upgrade()) {
                if t.user.borrow().as_deref() == Some(user) {
                    t.pushes.borrow_mut().push(env.clone());
                }
            }
            if let Some(hook) = self.on_push.borrow().as_ref() {
                hook(user, &env);
            }
        }
        env.seq
    }

    fn check(&self) -> Result<()> {
        self.calls.set(self.calls.get() + 1);
        match self.fail_next.borrow_mut().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    pub fn send(&self, user: &str, id: &ConversationId, text: &str) -> Result<SendReply> {
        let participants: Vec<(String, ConversationId)> = match id {
            ConversationId::C2c(peer) => vec![
                (user.to_owned(), id.clone()),
                (peer.clone(), ConversationId::c2c(user)),
            ],
            ConversationId::Group(g) => {
                let members = self.groups.borrow().get(g).cloned().unwrap_or_default();
                let membership = chat_core::rules::Membership {
                    member: members.iter().any(|m| m == user),
                    absences: Vec::new(),
                };
                membership.check_send(id)?;
                members.into_iter().map(|m| (m, id.clone())).collect()
            }
        };
        self.order.set(self.order.get() + 1);
        let order = self.order.get();
        let seq = {
            let mut threads = self.threads.borrow_mut();
            let t = threads.entry(thread_key(user, id)).or_default();
            t.push((user.to_owned(), text.to_owned(), order));
            t.len() as u64
        };
        let mut feed_seq = 0;
        for (member, member_id) in &participants {
            {
                let mut entries = self.entries.borrow_mut();
                let e = entries
                    .entry((member.clone(), member_id.canonical()))
                    .or_default();
                e.live = true;
                e.order_key = order;
                if member != user {
                    e.unread += 1;
                }
            }
            let conversation = self.view(member, member_id);
            let message = conversation.last_message.clone();
            let seq = self.append(
                member,
                Change::ConversationUpdated {
                    conversation,
                    message,
                },
                true,
            );
            if member == user {
                feed_seq = seq;
            }
        }
        let conversation = self.view(user, id);
        let message = conversation.last_message.clone().expect("just sent");
        assert_eq!(message.seq, seq);
        Ok(SendReply {
            message,
            conversation,
            feed_seq: self.reported(feed_seq),
        })
    }

    /// The server's answer to `GET /v1/conversations/{id}`.
    pub fn get_conversation(&self, user: &str, conversation_id: &str) -> Result<Conversation> {
        let id = ConversationId::parse(conversation_id)?;
        let live = self
            .entries
            .borrow()
            .get(&(user.to_owned(), id.canonical()))
            .is_some_and(|e| e.live);
        if !live {
            return Err(ChatError::not_found(conversation_id));
        }
        Ok(self.view(user, &id))
    }

    pub fn delete(&self, user: &str, request: &DeleteRequest) -> Result<DeleteReply> {
        assert!(request.conversation_id_list.len() <= MAX_DELETE_BATCH);
        let mut results = Vec::new();
        for raw in &request.conversation_id_list {
            let id = ConversationId::parse(raw)?;
            let key = (user.to_owned(), id.canonical());
            let upto = self
                .threads
                .borrow()
                .get(&thread_key(user, &id))
                .map_or(0, |t| t.len() as u64);
            let deleted = {
                let mut entries = self.entries.borrow_mut();
                match entries.get_mut(&key) {
                    Some(e) if e.live => {
                        e.live = false;
                        e.unread = 0;
                        if request.clear_message {
                            e.cleared = upto;
                        }
                        true
                    }
                    _ => false,
                }
            };
            let mut feed_seq = 0;
            if deleted {
                *self.deletions.borrow_mut().entry(key).or_default() += 1;
                feed_seq = self.append(
                    user,
                    Change::ConversationDeleted {
                        conversation_id: id.canonical(),
                        clear_message: request.clear_message,
                        upto_seq: upto,
                    },
                    self.sync_deletion.get(),
                );
            }
            results.push(DeleteResultItem {
                result: ConversationOperationResult {
                    conversation_id: raw.clone(),
                    result_code: if deleted { 0 } else { 2500 },
                    result_info: if deleted {
                        String::new()
                    } else {
                        ChatError::not_found(raw).message
                    },
                },
                upto_seq: upto,
                feed_seq: self.reported(feed_seq),
            });
        }
        Ok(DeleteReply { results })
    }

    pub fn history(
        &self,
        user: &str,
        conversation_id: &str,
        count: usize,
        before_seq: Option<u64>,
    ) -> Result<HistoryReply> {
        let id = ConversationId::parse(conversation_id)?;
        let cleared = self
            .entries
            .borrow()
            .get(&(user.to_owned(), id.canonical()))
            .map_or(0, |e| e.cleared);
        let threads = self.threads.borrow();
        let msgs = threads
            .get(&thread_key(user, &id))
            .cloned()
            .unwrap_or_default();
        let before = before_seq.unwrap_or(u64::MAX);
        let mut message_list = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| (i as u64 + 1, m))
            .filter(|(seq, _)| *seq > cleared && *seq < before)
            .rev()
            .take(count)
            .map(|(seq, m)| self.message(&id, m, seq))
            .collect::<Vec<_>>();
        let cut = self.history_cut.get();
        let has_more = cut > 0 && message_list.len() > cut;
        if has_more {
            message_list.truncate(cut);
        }
        Ok(HistoryReply {
            message_list,
            has_more,
        })
    }

    pub fn mark_read(&self, user: &str, conversation_id: &str) -> Result<ReadReply> {
        let id = ConversationId::parse(conversation_id)?;
        {
            let mut entries = self.entries.borrow_mut();
            match entries.get_mut(&(user.to_owned(), id.canonical())) {
                Some(e) if e.live => e.unread = 0,
                _ => return Err(ChatError::not_found(conversation_id)),
            }
        }
        let conversation = self.view(user, &id);
        let feed_seq = self.append(
            user,
            Change::ConversationUpdated {
                conversation: conversation.clone(),
                message: None,
            },
            true,
        );
        Ok(ReadReply {
            conversation,
            feed_seq: self.reported(feed_seq),
        })
    }

    /// `GET /v1/changes?since=N[&after=ID]`: a paginated reset (ordered by ID) for `since = 0`.
    pub fn changes(&self, user: &str, since: u64, after: Option<&str>) -> ChangesReply {
        let feed = self.feeds.borrow().get(user).cloned().unwrap_or_default();
        let newest = feed.len() as u64;
        if since == 0 || since > newest || after.is_some() {
            let mut ids = self.live_ids(user);
            ids.retain(|id| after.is_none_or(|a| id.as_str() > a));
            let has_more = ids.len() > self.reset_page.get();
            ids.truncate(self.reset_page.get());
            let conversations = ids
                .iter()
                .map(|id| self.view(user, &ConversationId::parse(id).unwrap()))
                .collect();
            return ChangesReply {
                cursor: newest,
                reset: true,
                conversations,
                changes: vec![],
                has_more,
                next_after: has_more.then(|| ids.last().cloned()).flatten(),
            };
        }
        ChangesReply {
            cursor: newest,
            reset: false,
            conversations: vec![],
            changes: feed[since as usize..].to_vec(),
            has_more: false,
            next_after: None,
        }
    }

    /// The user's live conversations as the server shows them, newest first.
    pub fn list(&self, user: &str) -> Vec<Conversation> {
        let mut list: Vec<Conversation> = self
            .live_ids(user)
            .iter()
            .map(|id| self.view(user, &ConversationId::parse(id).unwrap()))
            .collect();
        list.sort_by_key(|c| std::cmp::Reverse(c.order_key));
        list
    }
}

/// One device's connection to the fake server; pushes queue up until the test delivers them.
pub struct FakeTransport {
    server: Rc<FakeServer>,
    user: RefCell<Option<String>>,
    pushes: RefCell<Vec<ChangeEnvelope>>,
    /// When set, pushes reach this engine before a reply does (a fast WebSocket, a slow HTTP).
    pub push_before_reply: RefCell<Option<chat_core::Engine>>,
    /// Runs while a `changes` request is in flight (after the reply is computed).
    pub during_changes: RefCell<Option<Box<dyn Fn()>>>,
    /// Runs while a `history` request is in flight (after the reply is computed).
    pub during_history: RefCell<Option<Box<dyn Fn()>>>,
    /// When set, a `changes` reply, once computed, waits until the test releases this lock.
    pub gate: RefCell<Option<Rc<futures_util::lock::Mutex<()>>>>,
}

impl FakeTransport {
    pub fn new(server: Rc<FakeServer>) -> FakeTransport {
        FakeTransport {
            server,
            user: RefCell::new(None),
            pushes: RefCell::new(Vec::new()),
            push_before_reply: RefCell::new(None),
            during_changes: RefCell::new(None),
            during_history: RefCell::new(None),
            gate: RefCell::new(None),
        }
    }

    pub fn take_pushes(&self) -> Vec<ChangeEnvelope> {
        std::mem::take(&mut *self.pushes.borrow_mut())
    }

    async fn flush_early_pushes(&self) {
        let engine = self.push_before_reply.borrow().clone();
        if let Some(engine) = engine {
            for env in self.take_pushes() {
                engine.on_pushes(vec![env]).await;
            }
        }
    }

    fn user(&self) -> Result<String> {
        self.server.check()?;
        self.user
            .borrow()
            .clone()
            .ok_or_else(|| ChatError::new(ErrorCode::UserSigInvalid, "no credentials"))
    }
}

#[async_trait::async_trait(?Send)]
impl Transport for FakeTransport {
    async fn login(&self, request: &LoginRequest, user_sig: &str) -> Result<LoginReply> {
        self.server.check()?;
        match user_sig {
            "valid" => {}
            "expired" => return Err(ChatError::new(ErrorCode::UserSigExpired, "expired")),
            _ => return Err(ChatError::new(ErrorCode::UserSigInvalid, "bad sig")),
        }
        *self.user.borrow_mut() = Some(request.user_id.clone());
        Ok(LoginReply {
            user_id: request.user_id.clone(),
            server_time: 0,
            sync_conversation_deletion: self.server.sync_deletion.get(),
        })
    }

    fn logout(&self) {
        *self.user.borrow_mut() = None;
    }

    async fn get_conversation(&self, conversation_id: &str) -> Result<Conversation> {
        let user = self.user()?;
        self.server.get_conversation(&user, conversation_id)
    }

    async fn delete_conversations(&self, request: &DeleteRequest) -> Result<DeleteReply> {
        let user = self.user()?;
        let reply = self.server.delete(&user, request);
        self.flush_early_pushes().await;
        reply
    }

    async fn send_text(&self, request: &SendRequest) -> Result<SendReply> {
        let user = self.user()?;
        let id = ConversationId::parse(&request.conversation_id)?;
        let reply = self.server.send(&user, &id, &request.text);
        self.flush_early_pushes().await;
        reply
    }

    async fn history(
        &self,
        conversation_id: &str,
        count: usize,
        before_seq: Option<u64>,
    ) -> Result<HistoryReply> {
        let user = self.user()?;
        let reply = self
            .server
            .history(&user, conversation_id, count, before_seq);
        if let Some(f) = self.during_history.borrow().as_ref() {
            f();
        }
        self.flush_early_pushes().await;
        reply
    }

    async fn mark_read(&self, conversation_id: &str) -> Result<ReadReply> {
        let user = self.user()?;
        self.server.mark_read(&user, conversation_id)
    }

    async fn changes(&self, since: u64, after: Option<&str>) -> Result<ChangesReply> {
        let user = self.user()?;
        let reply = self.server.changes(&user, since, after);
        if let Some(f) = self.during_changes.borrow().as_ref() {
            f();
        }
        let gate = self.gate.borrow().clone();
        if let Some(gate) = gate {
            drop(gate.lock().await);
        }
        self.flush_early_pushes().await;
        Ok(reply)
    }
}

impl FakeServer {
    /// Registers a transport so pushes reach it (the fake's WebSocket).
    pub fn connect(&self, transport: &Rc<FakeTransport>) {
        self.transports.borrow_mut().push(Rc::downgrade(transport));
    }
}
