//! The conversation engine: the public calls of the contract, in order: validate the whole call,
//! ask the server, apply only what it confirmed to local state and storage, then emit events.
//!
//! The engine is a cheap handle (`Rc`); no `RefCell` borrow is held across an await or while a
//! listener runs, so concurrent calls and calls from inside listeners are safe.

use crate::args::{self, Arg};
use crate::error::{ChatError, ErrorCode, Result};
use crate::event::{Event, Hooks};
use crate::id::{ConversationId, IdStyle};
use crate::model::{Conversation, ConversationOperationResult, ConversationPage, Message};
use crate::state::{Effects, LocalState, Origin, ResetPage};
use crate::store::{Namespace, Snapshot, Store, StoreOpener};
use crate::transport::Transport;
use crate::wire::{Change, ChangeEnvelope, ChangesReply, DeleteRequest, LoginRequest, SendRequest};
use futures_util::future::{select, Either, LocalBoxFuture};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::Poll;

/// A sync request sent before its session existed (see `Engine::open_store`), in flight or
/// answered.
type Request<'a> = LocalBoxFuture<'a, Result<ChangesReply>>;
/// That request, with the state's sync mark as of the request.
type Prefetched<'a> = Option<(u64, Request<'a>)>;

#[derive(Clone, Debug)]
pub struct EngineOptions {
    pub sdk_app_id: u64,
    pub style: IdStyle,
}

struct Session {
    user: String,
    store: Rc<dyn Store>,
    state: RefCell<LocalState>,
    /// Serializes state changes so store writes happen in the order the state changed.
    write_lock: futures_util::lock::Mutex<()>,
    /// Syncs in flight. Pushes that arrive meanwhile are held and applied after the sync's
    /// reply, which they may be newer than (a reset reply would otherwise undo them).
    syncing: Cell<u32>,
    held_pushes: RefCell<Vec<ChangeEnvelope>>,
}

struct Inner {
    options: EngineOptions,
    transport: Rc<dyn Transport>,
    opener: Rc<dyn StoreOpener>,
    hooks: Rc<dyn Hooks>,
    session: RefCell<Option<Rc<Session>>>,
    login_lock: futures_util::lock::Mutex<()>,
    destroyed: Cell<bool>,
}

#[derive(Clone)]
pub struct Engine {
    inner: Rc<Inner>,
}

impl Engine {
    pub fn new(
        options: EngineOptions,
        transport: Rc<dyn Transport>,
        opener: Rc<dyn StoreOpener>,
        hooks: Rc<dyn Hooks>,
    ) -> Engine {
        Engine {
            inner: Rc::new(Inner {
                options,
                transport,
                opener,
                hooks,
                session: RefCell::new(None),
                login_lock: futures_util::lock::Mutex::new(()),
                destroyed: Cell::new(false),
            }),
        }
    }

    pub fn style(&self) -> IdStyle {
        self.inner.options.style
    }

    pub fn sdk_app_id(&self) -> u64 {
        self.inner.options.sdk_app_id
    }

    fn alive(&self) -> Result<()> {
        if self.inner.destroyed.get() {
            Err(ChatError::destroyed())
        } else {
            Ok(())
        }
    }

    fn session(&self) -> Result<Rc<Session>> {
        self.alive()?;
        self.inner
            .session
            .borrow()
            .clone()
            .ok_or_else(ChatError::not_logged_in)
    }

    fn is_current(&self, session: &Rc<Session>) -> bool {
        self.inner
            .session
            .borrow()
            .as_ref()
            .is_some_and(|s| Rc::ptr_eq(s, session))
    }

    pub fn login_user(&self) -> Option<String> {
        self.inner.session.borrow().as_ref().map(|s| s.user.clone())
    }

    /// The namespace of the logged-in user (for the browser's cross-tab channel).
    pub fn namespace(&self) -> Option<Namespace> {
        self.login_user().map(|user_id| Namespace {
            sdk_app_id: self.sdk_app_id(),
            user_id,
        })
    }

    /// Verifies the userSig with the server, opens the user's store (memory if it cannot be
    /// opened), loads it, and syncs once from the stored cursor (requested while it loads).
    pub async fn login(&self, user_id: &Arg, user_sig: &Arg) -> Result<()> {
        self.alive()?;
        let user = args::user_id(user_id)?.to_owned();
        let sig = args::user_sig(user_sig)?.to_owned();
        let _guard = self.inner.login_lock.lock().await;
        if self.login_user().as_deref() == Some(user.as_str()) {
            return Ok(());
        }
        let request = LoginRequest {
            sdk_app_id: self.sdk_app_id(),
            user_id: user.clone(),
        };
        self.inner.transport.login(&request, &sig).await?;
        self.alive()?;
        // The transport now holds the new user's credentials: only the old session ends.
        self.end_session().await;
        let namespace = Namespace {
            sdk_app_id: self.sdk_app_id(),
            user_id: user.clone(),
        };
        let (store, snapshot, first) = self.open_store(&namespace).await;
        let mut state = LocalState::from_snapshot(snapshot);
        state.me = user.clone();
        // Nothing was applied to the state when the first sync request was sent.
        let first = first.map(|reply| (state.sync_mark(), reply));
        let session = Rc::new(Session {
            user,
            store,
            state: RefCell::new(state),
            write_lock: futures_util::lock::Mutex::new(()),
            syncing: Cell::new(0),
            held_pushes: RefCell::new(Vec::new()),
        });
        *self.inner.session.borrow_mut() = Some(session);
        let _ = self.sync_from(first).await;
        Ok(())
    }

    /// Opens and loads the store. Loading 10,000 records is most of login's time, so the first
    /// sync request (from the stored cursor, read first) is sent meanwhile: it is returned in
    /// flight or answered. The loaded state reflects at least that cursor (it only moves
    /// forward), so the reply applies to it.
    async fn open_store(
        &self,
        namespace: &Namespace,
    ) -> (Rc<dyn Store>, Snapshot, Option<Request<'_>>) {
        let opened = async {
            let store = self.inner.opener.open(namespace).await?;
            let since = store.cursor().await?;
            let mut request = self.inner.transport.changes(since, None);
            let snapshot = match select(store.load(), &mut request).await {
                Either::Left((snapshot, _)) => snapshot?,
                Either::Right((reply, load)) => {
                    request = Box::pin(std::future::ready(reply));
                    load.await?
                }
            };
            Ok::<_, ChatError>((store, snapshot, Some(request)))
        };
        match opened.await {
            Ok(opened) => opened,
            Err(e) => {
                let reason = format!("local database unavailable, using memory: {}", e.message);
                self.inner.hooks.emit(Event::StorageFallback(reason));
                (self.inner.opener.fallback(), Snapshot::default(), None)
            }
        }
    }

    pub async fn logout(&self) -> Result<()> {
        self.alive()?;
        let _guard = self.inner.login_lock.lock().await;
        self.logout_now().await;
        Ok(())
    }

    async fn logout_now(&self) {
        self.inner.transport.logout();
        self.end_session().await;
    }

    async fn end_session(&self) {
        let old = self.inner.session.borrow_mut().take();
        if let Some(s) = old {
            s.store.close().await;
        }
    }

    /// Ends the instance: later calls reject with 6013.
    pub async fn destroy(&self) {
        if self.inner.destroyed.replace(true) {
            return;
        }
        self.logout_now().await;
    }

    pub fn is_destroyed(&self) -> bool {
        self.inner.destroyed.get()
    }

    /// Applies changes under the write lock, writes them to the store and, while the store works
    /// on that (its transaction is issued on the first poll), sends this client's `changes` to
    /// the other tabs and emits the events: their cost overlaps the write's instead of adding to
    /// it. Resolves once the write is done.
    async fn commit(
        &self,
        session: &Rc<Session>,
        changes: &[ChangeEnvelope],
        apply: &mut dyn FnMut(&mut LocalState, &mut Effects),
    ) {
        let _guard = session.write_lock.lock().await;
        let (batch, events) = {
            let mut state = session.state.borrow_mut();
            let mut fx = Effects::new(&state);
            apply(&mut state, &mut fx);
            state.stamp(&mut fx.batch);
            let events = fx.events(&state, self.style());
            (fx.batch, events)
        };
        // An empty batch is not written: the store is not asked at all (as before the events
        // moved here), so nothing of it, nor a test hook armed on it, runs for nothing.
        let mut write: LocalBoxFuture<'_, Result<()>> = if batch.is_empty() {
            Box::pin(std::future::ready(Ok(())))
        } else {
            session.store.apply(&batch)
        };
        // The first poll runs the write up to its first await.
        let first = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
        if !changes.is_empty() {
            self.inner.hooks.share_with_tabs(changes);
        }
        for event in events {
            self.inner.hooks.emit(event);
        }
        let written = match first {
            Poll::Ready(r) => r,
            Poll::Pending => write.await,
        };
        // The server already holds these changes; memory keeps them, and a store that failed
        // converges at the next sync because its cursor did not move.
        if let Err(e) = written {
            self.inner
                .hooks
                .log_error(&format!("could not save changes locally: {e}"));
        }
    }

    /// Fetches the change feed from the stored cursor and applies it.
    pub async fn sync(&self) -> Result<()> {
        self.sync_from(None).await
    }

    /// `sync`, whose first reply may have been requested already (at login).
    async fn sync_from(&self, first: Prefetched<'_>) -> Result<()> {
        let session = self.session()?;
        self.inner.hooks.emit(Event::SyncServerStart);
        session.syncing.set(session.syncing.get() + 1);
        let result = self.sync_inner(&session, first).await;
        session.syncing.set(session.syncing.get() - 1);
        if session.syncing.get() == 0 {
            let held = std::mem::take(&mut *session.held_pushes.borrow_mut());
            if !held.is_empty() {
                self.apply_pushes(&session, held).await;
            }
        }
        if self.is_current(&session) {
            self.inner.hooks.emit(match result {
                Ok(()) => Event::SyncServerFinish,
                Err(_) => Event::SyncServerFailed,
            });
        }
        result
    }

    async fn sync_inner(&self, session: &Rc<Session>, mut first: Prefetched<'_>) -> Result<()> {
        loop {
            let (mark, request) = first.take().unwrap_or_else(|| {
                let state = session.state.borrow();
                let request = self.inner.transport.changes(state.cursor, None);
                (state.sync_mark(), request)
            });
            let reply = request.await?;
            self.check_current(session)?;
            if reply.reset {
                let again = self.reset(session, reply, mark).await?;
                if !again {
                    return Ok(());
                }
                continue;
            }
            let more = reply.has_more;
            self.commit(session, &[], &mut |state, fx| {
                for env in &reply.changes {
                    state.apply(&env.change, env.seq, Origin::Remote, fx);
                }
                if reply.cursor > state.cursor {
                    state.cursor = reply.cursor;
                    fx.batch.cursor = Some(reply.cursor);
                }
            })
            .await;
            if !more {
                return Ok(());
            }
        }
    }

    fn check_current(&self, session: &Rc<Session>) -> Result<()> {
        if self.is_current(session) {
            Ok(())
        } else {
            Err(ChatError::not_logged_in())
        }
    }

    /// Fetches the remaining pages of a reset and applies the whole snapshot as one reset, each
    /// conversation as of the page that covers it; the cursor becomes the first page's. Returns
    /// whether later pages were read at a newer cursor, so an incremental pass must follow.
    async fn reset(&self, session: &Rc<Session>, first: ChangesReply, mark: u64) -> Result<bool> {
        let cursor = first.cursor;
        let mut more = first.has_more;
        let mut pages = vec![ResetPage {
            cursor,
            conversations: first.conversations,
            upto_id: first.next_after.filter(|_| more),
        }];
        while more {
            let Some(from) = pages.last().and_then(|p| p.upto_id.clone()) else {
                return Err(ChatError::new(
                    ErrorCode::ServerError,
                    "a reset page with hasMore lacks nextAfter",
                ));
            };
            let page = self.inner.transport.changes(0, Some(&from)).await?;
            self.check_current(session)?;
            if !page.reset {
                return Err(ChatError::new(
                    ErrorCode::ServerError,
                    "a reset page came back as incremental changes",
                ));
            }
            more = page.has_more;
            pages.push(ResetPage {
                cursor: page.cursor,
                conversations: page.conversations,
                upto_id: page.next_after.filter(|_| more),
            });
        }
        let newer = pages.iter().any(|p| p.cursor > cursor);
        self.commit(session, &[], &mut |state, fx| {
            state.reset(&pages, mark, fx);
            state.cursor = cursor;
            fx.batch.cursor = Some(cursor);
        })
        .await;
        Ok(newer)
    }

    /// Pushed changes that arrived together (in feed order): applied as one store write, with
    /// one round of events.
    pub async fn on_pushes(&self, envelopes: Vec<ChangeEnvelope>) {
        let Ok(session) = self.session() else { return };
        if session.syncing.get() > 0 {
            session.held_pushes.borrow_mut().extend(envelopes);
            return;
        }
        self.apply_pushes(&session, envelopes).await;
    }

    async fn apply_pushes(&self, session: &Rc<Session>, envelopes: Vec<ChangeEnvelope>) {
        self.commit(session, &[], &mut |state, fx| {
            for envelope in &envelopes {
                state.apply(&envelope.change, envelope.seq, Origin::Remote, fx);
                // Only a contiguous push moves the cursor; a gap is filled by the next sync.
                if envelope.seq == state.cursor + 1 {
                    state.cursor = envelope.seq;
                    fx.batch.cursor = Some(envelope.seq);
                }
            }
        })
        .await;
    }

    /// Changes another tab of this user made (BroadcastChannel), with their feed seqs.
    pub async fn on_tab_changes(&self, changes: Vec<ChangeEnvelope>) {
        let Ok(session) = self.session() else { return };
        self.commit(&session, &[], &mut |state, fx| {
            for env in &changes {
                state.apply(&env.change, env.seq, Origin::Remote, fx);
            }
        })
        .await;
    }

    /// Applies what the server confirmed to this client's own call (`seq`: its feed entry).
    async fn apply_local(&self, session: &Rc<Session>, changes: Vec<ChangeEnvelope>) {
        if !self.is_current(session) || changes.is_empty() {
            return;
        }
        self.commit(session, &changes, &mut |state, fx| {
            for env in &changes {
                state.apply(&env.change, env.seq, Origin::Local, fx);
            }
        })
        .await;
    }

    pub async fn get_conversation_list(
        &self,
        next_seq: &Arg,
        count: &Arg,
    ) -> Result<ConversationPage> {
        self.alive()?;
        let next_seq = args::next_seq(next_seq)?;
        let count = args::page_count(count)?;
        let session = self.session()?;
        let page = session.state.borrow().page(next_seq, count, self.style());
        Ok(page)
    }

    pub async fn get_conversation(&self, conversation_id: &Arg) -> Result<Conversation> {
        self.alive()?;
        let id = args::conversation_id(conversation_id)?;
        let session = self.session()?;
        let local = session.state.borrow().get(&id.canonical()).cloned();
        match local {
            Some(c) => Ok(c.styled(self.style())),
            None => {
                // Not known here (yet): the server is the authority on whether it exists.
                let c = self
                    .inner
                    .transport
                    .get_conversation(&id.canonical())
                    .await?;
                Ok(c.styled(self.style()))
            }
        }
    }

    pub async fn get_total_unread_message_count(&self) -> Result<u64> {
        let session = self.session()?;
        let total = session.state.borrow().total_unread();
        Ok(total)
    }

    pub async fn clean_conversation_unread_message_count(
        &self,
        conversation_id: &Arg,
    ) -> Result<()> {
        self.alive()?;
        let id = args::conversation_id(conversation_id)?;
        let session = self.session()?;
        let reply = self.inner.transport.mark_read(&id.canonical()).await?;
        self.apply_local(
            &session,
            vec![ChangeEnvelope {
                seq: reply.feed_seq,
                change: Change::ConversationUpdated {
                    conversation: reply.conversation,
                    message: None,
                },
            }],
        )
        .await;
        Ok(())
    }

    /// `deleteConversation`: the conversation and its history, or a rejection with nothing changed.
    pub async fn delete_conversation(&self, conversation_id: &Arg) -> Result<()> {
        self.alive()?;
        let id = args::conversation_id(conversation_id)?;
        let list = Arg::array(vec![Arg::Str(id.canonical())]);
        let results = self
            .delete_conversation_list(&list, &Arg::Bool(true))
            .await?;
        match results.into_iter().next() {
            Some(r) if r.result_code == 0 => Ok(()),
            Some(r) => Err(ChatError {
                code: r.result_code,
                message: r.result_info,
            }),
            None => Err(ChatError::new(
                ErrorCode::ServerError,
                "no result for the deletion",
            )),
        }
    }

    /// `deleteConversationList`: whole-call checks, then one result per distinct ID in order of
    /// first appearance; only what the server confirmed is applied locally.
    pub async fn delete_conversation_list(
        &self,
        conversation_id_list: &Arg,
        clear_message: &Arg,
    ) -> Result<Vec<ConversationOperationResult>> {
        self.alive()?;
        let items = args::conversation_id_list(conversation_id_list)?;
        let clear = args::clear_message(clear_message)?;
        let session = self.session()?;
        let style = self.style();

        let raws = items
            .iter()
            .map(|item| args::string(item, "conversationID"))
            .collect::<Result<Vec<_>>>()?;
        let distinct = crate::rules::distinct_delete_list(raws);
        let valid: Vec<String> = distinct
            .iter()
            .filter_map(|(_, p)| p.as_ref().ok().map(ConversationId::canonical))
            .collect();
        let reply = if valid.is_empty() {
            Vec::new()
        } else {
            let request = DeleteRequest {
                conversation_id_list: valid,
                clear_message: clear,
            };
            self.inner
                .transport
                .delete_conversations(&request)
                .await?
                .results
        };

        // Parsed once, not once per item of the list.
        let replied: Vec<Option<ConversationId>> = reply
            .iter()
            .map(|r| ConversationId::parse(&r.result.conversation_id).ok())
            .collect();
        let mut results = Vec::with_capacity(distinct.len());
        let mut changes = Vec::new();
        for (raw, parsed) in &distinct {
            let result = match parsed {
                Err(e) => ConversationOperationResult {
                    conversation_id: raw.clone(),
                    result_code: e.code,
                    result_info: e.message.clone(),
                },
                Ok(id) => {
                    let canonical = id.canonical();
                    let item = replied
                        .iter()
                        .position(|r| r.as_ref() == Some(id))
                        .map(|i| &reply[i]);
                    match item {
                        Some(item) => {
                            if item.result.result_code == 0 {
                                changes.push(ChangeEnvelope {
                                    seq: item.feed_seq,
                                    change: Change::ConversationDeleted {
                                        conversation_id: canonical,
                                        clear_message: clear,
                                        upto_seq: item.upto_seq,
                                    },
                                });
                            }
                            ConversationOperationResult {
                                conversation_id: id.render(style),
                                result_code: item.result.result_code,
                                result_info: item.result.result_info.clone(),
                            }
                        }
                        None => ConversationOperationResult {
                            conversation_id: id.render(style),
                            result_code: ErrorCode::ServerError.code(),
                            result_info: format!(
                                "the server returned no result for {}",
                                crate::error::quote(raw)
                            ),
                        },
                    }
                }
            };
            results.push(result);
        }
        self.apply_local(&session, changes).await;
        Ok(results)
    }

    pub async fn send_text_message(&self, conversation_id: &Arg, text: &Arg) -> Result<Message> {
        self.alive()?;
        let id = args::conversation_id(conversation_id)?;
        let text = args::text(text)?.to_owned();
        let session = self.session()?;
        crate::rules::check_not_self(&session.user, &id, &id.render(self.style()))?;
        let request = SendRequest {
            conversation_id: id.canonical(),
            text,
        };
        let reply = self.inner.transport.send_text(&request).await?;
        let message = reply.message.styled(self.style());
        self.apply_local(
            &session,
            vec![ChangeEnvelope {
                seq: reply.feed_seq,
                change: Change::ConversationUpdated {
                    conversation: reply.conversation,
                    message: Some(reply.message),
                },
            }],
        )
        .await;
        Ok(message)
    }

    /// Newest first from the server (stored locally as it arrives); from the local store when the
    /// server cannot be reached.
    pub async fn get_history_message_list(
        &self,
        conversation_id: &Arg,
        count: &Arg,
        last_msg_id: &Arg,
    ) -> Result<Vec<Message>> {
        self.alive()?;
        let id = args::conversation_id(conversation_id)?;
        let count = args::page_count(count)?;
        let last = args::last_msg_id(last_msg_id)?.map(str::to_owned);
        let session = self.session()?;
        let canonical = id.canonical();
        let before_seq = match &last {
            None => None,
            Some(msg_id) => Some(self.seq_of(&session, &canonical, msg_id).await?),
        };
        let messages = match self.server_history(&canonical, count, before_seq).await {
            Ok(mut fresh) => {
                if !fresh.is_empty() && self.is_current(&session) {
                    let _guard = session.write_lock.lock().await;
                    // A deletion with its history, applied while the page was read, hid part of
                    // it: that part is neither cached nor returned. (Under the write lock: the
                    // deletion's own clear of the store is done.)
                    session.state.borrow().drop_hidden(&canonical, &mut fresh);
                    let batch = crate::store::StoreBatch {
                        put_messages: fresh.clone(),
                        ..Default::default()
                    };
                    if let Err(e) = session.store.apply(&batch).await {
                        self.inner
                            .hooks
                            .log_error(&format!("could not cache messages: {e}"));
                    }
                }
                fresh
            }
            Err(e) if e.is(ErrorCode::NetworkDisconnected) || e.is(ErrorCode::RequestTimeout) => {
                let mut cached = session
                    .store
                    .messages(&canonical, before_seq, count)
                    .await?;
                // A tab sharing the store may have cached a page it read before a deletion
                // that cleared it (it heard of the deletion later): hidden all the same. Hidden
                // messages are the oldest, so no visible one is cut from the page.
                session.state.borrow().drop_hidden(&canonical, &mut cached);
                cached
            }
            Err(e) => return Err(e),
        };
        Ok(messages.iter().map(|m| m.styled(self.style())).collect())
    }

    /// Up to `count` messages before `before_seq`: a page the server cut at its byte budget
    /// (`hasMore`) is continued from its last message, so a short page is never taken for the
    /// start of the conversation.
    async fn server_history(
        &self,
        canonical: &str,
        count: usize,
        mut before_seq: Option<u64>,
    ) -> Result<Vec<Message>> {
        let mut messages: Vec<Message> = Vec::new();
        loop {
            let reply = self
                .inner
                .transport
                .history(canonical, count - messages.len(), before_seq)
                .await?;
            let cut = reply.has_more;
            messages.extend(reply.message_list);
            // Every continued page holds at least one message, so this ends within `count` pages.
            match messages.last() {
                Some(last) if cut && messages.len() < count && last.seq > 1 => {
                    before_seq = Some(last.seq);
                }
                _ => return Ok(messages),
            }
        }
    }

    async fn seq_of(&self, session: &Session, canonical: &str, msg_id: &str) -> Result<u64> {
        let known = session.store.messages(canonical, None, usize::MAX).await?;
        known
            .iter()
            .find(|m| m.msg_id == msg_id)
            .map(|m| m.seq)
            .ok_or_else(|| {
                ChatError::invalid(format!(
                    "lastMsgID {} is not a message of {} returned before",
                    crate::error::quote(msg_id),
                    crate::error::quote(canonical)
                ))
            })
    }
}
