//! A client's view of one user's conversations and the merge rules that keep it convergent.
//!
//! Changes arrive from this client's own calls, the server's push, the change feed and other
//! tabs, possibly twice and out of order. The rules (see `docs/protocol.md`):
//! - an update wins if its last message seq is newer, or equal with fewer unread (a read mark);
//! - a conversation absent locally comes back only with a message newer than its tombstone;
//! - a deletion applies if its `uptoSeq` covers the local last message.
//!
//! So every order of the same changes ends in the same state, and each event fires once.
//!
//! A reset (a full list from the server) is a snapshot as of its feed cursor, and may arrive
//! after newer changes were applied (an own send, a push, another tab). Each conversation
//! therefore remembers the feed seq of the newest change applied to it, and a reset removes or
//! overwrites only conversations at or below its cursor. A change without a feed seq (an old
//! server) is protected from every reset whose request was sent before it was applied.

use crate::event::Event;
use crate::id::IdStyle;
use crate::map::HashMap;
use crate::model::{Conversation, ConversationPage, Message, Tombstone};
use crate::store::{Prune, Snapshot, StoreBatch};
use crate::wire::Change;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Where a change came from: only this client's own deletes fire for conversations it never had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Local,
    Remote,
}

#[derive(Default, Debug)]
pub struct LocalState {
    /// Boxed: the table has up to twice as many slots as conversations, each then a pointer
    /// rather than a whole record (memory at login is the SDK's peak).
    convs: HashMap<String, Box<Conversation>>,
    tombs: HashMap<String, Tombstone>,
    /// Per conversation, the feed seq of the newest change reflected locally (live or deleted).
    /// Stored with the records (`StoreBatch::versions`): a tab sharing the store may have written
    /// newer records than this one knows, and a reload must not take them for older ones.
    versions: HashMap<String, u64>,
    /// The cursor of the newest reset applied: every conversation reflects at least that seq.
    reset_floor: u64,
    /// Per conversation, the `generation` at which a change without a feed seq touched it.
    unsequenced: HashMap<String, u64>,
    /// Counts changes applied without a feed seq (see `sync_mark`).
    generation: u64,
    pub cursor: u64,
    /// The logged-in user: their own messages (sent from any device) are not "received".
    pub me: String,
}

/// What applying changes did: the store batch to write and what listeners must hear.
const TOUCHED: u64 = 1;
const DELETED: u64 = 2;

#[derive(Debug)]
pub struct Effects {
    pub batch: StoreBatch,
    unread_before: u64,
    touched: Vec<(String, bool)>,
    deleted: Vec<String>,
    /// Per ID, `TOUCHED` | `DELETED`: the lists stay in first-seen order, and a reset of 10,000
    /// conversations checks membership in a map, not by scanning them (quadratic).
    marks: HashMap<String, u64>,
    messages: Vec<Message>,
}

impl Effects {
    pub fn new(state: &LocalState) -> Self {
        Effects {
            batch: StoreBatch::default(),
            unread_before: state.total_unread(),
            touched: Vec::new(),
            deleted: Vec::new(),
            marks: HashMap::default(),
            messages: Vec::new(),
        }
    }

    /// Sets `mark` on `id`; true when it was not set.
    fn mark(&mut self, id: &str, mark: u64) -> bool {
        let marks = match self.marks.get_mut(id) {
            Some(marks) => marks,
            None => self.marks.entry(id.to_owned()).or_default(),
        };
        let first = *marks & mark == 0;
        *marks |= mark;
        first
    }

    fn is_deleted(&self, id: &str) -> bool {
        self.marks.get(id).is_some_and(|m| m & DELETED != 0)
    }

    fn touch(&mut self, id: &str, present_before: bool) {
        if self.mark(id, TOUCHED) {
            self.touched.push((id.to_owned(), present_before));
        }
    }

    fn deleted(&mut self, id: &str) {
        if self.mark(id, DELETED) {
            self.deleted.push(id.to_owned());
        }
    }

    /// The events to emit, in order: deleted, new, changed, received messages, unread total.
    pub fn events(&self, state: &LocalState, style: IdStyle) -> Vec<Event> {
        let mut events = Vec::new();
        if !self.deleted.is_empty() {
            let ids = self
                .deleted
                .iter()
                .map(|id| crate::id::restyle(id, style))
                .collect();
            events.push(Event::ConversationDeleted(ids));
        }
        let (mut new, mut changed) = (Vec::new(), Vec::new());
        for (id, before) in &self.touched {
            if let Some(c) = state.get(id) {
                if !before || self.is_deleted(id) {
                    new.push(c.styled(style));
                } else {
                    changed.push(c.styled(style));
                }
            }
        }
        if !new.is_empty() {
            events.push(Event::NewConversation(new));
        }
        if !changed.is_empty() {
            events.push(Event::ConversationChanged(changed));
        }
        for m in &self.messages {
            events.push(Event::RecvNewMessage(m.styled(style)));
        }
        let total = state.total_unread();
        if total != self.unread_before {
            events.push(Event::TotalUnreadChanged(total));
        }
        events
    }
}

impl LocalState {
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        // The store reflects every change up to its cursor (its writes are conditional, and a
        // reset prunes what it lacks), as after a reset at that cursor.
        let mut s = LocalState {
            cursor: snapshot.cursor,
            reset_floor: snapshot.cursor,
            ..Default::default()
        };
        // Login is the peak of the wasm memory, which never shrinks: maps sized once rather than
        // doubled while filled, and the snapshot's list shrunk as its records move out, so that
        // the boxes reuse its space.
        let Snapshot {
            mut conversations,
            tombstones,
            versions,
            ..
        } = snapshot;
        s.convs.reserve(conversations.len());
        s.tombs.reserve(tombstones.len());
        s.versions.reserve(versions.len());
        conversations.reverse();
        while let Some(c) = conversations.pop() {
            s.insert(c);
            if conversations.len() % 1024 == 0 {
                conversations.shrink_to_fit();
            }
        }
        for t in tombstones {
            s.tombs.insert(t.conversation_id.clone(), t);
        }
        s.versions.extend(versions);
        s
    }

    /// Sets the batch's per-conversation versions, and makes it write each of those
    /// conversations whole (its record, or its removal): another tab may have stored a different
    /// state of it, which a version without the matching record would vouch for.
    pub fn stamp(&self, batch: &mut StoreBatch) {
        // Deduplicated in a map of the type `versions` already is (no sort in the wasm).
        let mut touched: HashMap<String, u64> = HashMap::default();
        let ids = (batch.put_conversations.iter().map(|c| &c.conversation_id))
            .chain(batch.put_tombstones.iter().map(|t| &t.conversation_id))
            .chain(batch.put_messages.iter().map(|m| &m.conversation_id))
            .chain(&batch.remove_conversations)
            .chain(&batch.remove_tombstones);
        for id in ids {
            if !touched.contains_key(id.as_str()) {
                touched.insert(id.clone(), self.version(id));
            }
        }
        // One put of the current record or one removal each; removals apply before puts, so
        // this is what the batch's own puts and removals of them amounted to.
        batch.put_conversations.clear();
        batch.remove_conversations.clear();
        let mut versions = Vec::with_capacity(touched.len());
        for (id, version) in touched {
            match self.get(&id) {
                Some(c) => batch.put_conversations.push(c.clone()),
                None => batch.remove_conversations.push(id.clone()),
            }
            versions.push((id, version));
        }
        batch.versions = versions;
    }

    fn insert(&mut self, c: Conversation) {
        self.convs.insert(c.conversation_id.clone(), Box::new(c));
    }

    fn remove(&mut self, id: &str) -> Option<Conversation> {
        self.convs.remove(id).map(|c| *c)
    }

    pub fn get(&self, id: &str) -> Option<&Conversation> {
        self.convs.get(id).map(|c| &**c)
    }

    fn live(&self) -> impl Iterator<Item = &Conversation> {
        self.convs.values().map(|c| &**c)
    }

    pub fn total_unread(&self) -> u64 {
        self.live().map(|c| u64::from(c.unread_count)).sum()
    }

    /// `getConversationList(nextSeq, count)`: newest first, orderKey < nextSeq when nextSeq > 0.
    ///
    /// A bounded heap over the live conversations rather than a sorted index: a page of 10,000
    /// conversations takes well under a millisecond, and neither an ordered map nor a sort (the
    /// heap is a quarter of their size in the wasm) is shipped.
    pub fn page(&self, next_seq: u64, count: usize, style: IdStyle) -> ConversationPage {
        let upper = if next_seq == 0 { u64::MAX } else { next_seq };
        let mut newest = BinaryHeap::with_capacity(count + 1);
        let mut matching = 0;
        for c in self.live().filter(|c| c.order_key < upper) {
            matching += 1;
            newest.push(Older(c));
            if newest.len() > count {
                newest.pop(); // the oldest of count + 1
            }
        }
        let list: Vec<Conversation> = (newest.into_sorted_vec().into_iter())
            .map(|Older(c)| c.styled(style))
            .collect();
        ConversationPage {
            next_seq: list.last().map_or(0, |c| c.order_key),
            conversation_list: list,
            is_finished: matching <= count,
        }
    }

    /// Taken when a sync request is sent, and handed to `reset` with its reply: changes without
    /// a feed seq applied after it may be newer than the reply.
    pub fn sync_mark(&self) -> u64 {
        self.generation
    }

    /// The seq up to which a deletion with its history hid the conversation's messages (0: none).
    pub fn hidden_upto(&self, id: &str) -> u64 {
        self.tombs.get(id).map_or(0, Tombstone::cleared_upto)
    }

    /// Drops from a history page (from the server or the cache) what a deletion with its history
    /// hid.
    pub fn drop_hidden(&self, id: &str, page: &mut Vec<Message>) {
        let hidden = self.hidden_upto(id);
        page.retain(|m| m.seq > hidden);
    }

    /// The feed seq of the newest change applied to a conversation (0 when unknown).
    pub fn version(&self, id: &str) -> u64 {
        self.versions
            .get(id)
            .copied()
            .unwrap_or(0)
            .max(self.reset_floor)
    }

    /// Applies one change whose feed entry has seq `seq` (0 when unknown); records the store
    /// writes and events in `fx`. A change at or below what the conversation already reflects
    /// is skipped.
    pub fn apply(&mut self, change: &Change, seq: u64, origin: Origin, fx: &mut Effects) {
        let id = match change {
            Change::ConversationUpdated { conversation, .. } => &conversation.conversation_id,
            Change::ConversationDeleted {
                conversation_id, ..
            } => conversation_id,
        };
        let version = self.version(id);
        if seq > 0 && seq <= version {
            if let Change::ConversationDeleted {
                clear_message: true,
                upto_seq,
                ..
            } = change
            {
                Self::clear_history(id, *upto_seq, fx);
            }
            return;
        }
        if seq > 0 {
            self.versions.insert(id.clone(), seq);
        } else {
            self.generation += 1;
            self.unsequenced.insert(id.clone(), self.generation);
        }
        self.merge(change, origin, fx);
    }

    fn merge(&mut self, change: &Change, origin: Origin, fx: &mut Effects) {
        match change {
            Change::ConversationUpdated {
                conversation,
                message,
            } => self.apply_update(conversation, message.as_ref(), origin, fx),
            Change::ConversationDeleted {
                conversation_id,
                clear_message,
                upto_seq,
            } => self.apply_delete(conversation_id, *clear_message, *upto_seq, origin, fx),
        }
    }

    fn apply_update(
        &mut self,
        inc: &Conversation,
        message: Option<&Message>,
        origin: Origin,
        fx: &mut Effects,
    ) {
        let id = &inc.conversation_id;
        let tomb = self.tombs.get(id);
        let hidden_upto = self.hidden_upto(id);
        if let Some(m) = message.filter(|m| m.seq > hidden_upto) {
            fx.batch.put_messages.push(m.clone());
        }
        let local = self.get(id);
        let prev_seq = local.map_or(0, Conversation::last_seq);
        let accept = match local {
            Some(c) => {
                inc.last_seq() > c.last_seq()
                    || (inc.last_seq() == c.last_seq() && inc.unread_count < c.unread_count)
            }
            None => tomb.is_none_or(|t| inc.last_seq() > t.upto_seq),
        };
        if !accept {
            return;
        }
        fx.touch(id, local.is_some());
        if origin == Origin::Remote {
            let fresh = |m: &&Message| m.seq > prev_seq.max(hidden_upto) && m.sender != self.me;
            if let Some(m) = message.filter(fresh) {
                fx.messages.push(m.clone());
            }
        }
        fx.batch.put_conversations.push(inc.clone());
        self.insert(inc.clone());
    }

    /// Forgets cached messages up to `upto`; idempotent, so also done for a deletion whose
    /// conversation state was already superseded (the server hid those messages all the same).
    fn clear_history(id: &str, upto: u64, fx: &mut Effects) {
        fx.batch.clear_messages.push((id.to_owned(), upto));
        // A store applies clears before puts: drop puts of this batch the clear covers.
        fx.batch
            .put_messages
            .retain(|m| m.conversation_id != id || m.seq > upto);
    }

    fn apply_delete(&mut self, id: &str, clear: bool, upto: u64, origin: Origin, fx: &mut Effects) {
        let newer_tomb = self
            .tombs
            .get(id)
            .is_none_or(|t| upto > t.upto_seq || (upto == t.upto_seq && clear && !t.cleared));
        if newer_tomb {
            let tomb = Tombstone {
                conversation_id: id.to_owned(),
                upto_seq: upto,
                cleared: clear,
            };
            fx.batch.put_tombstones.push(tomb.clone());
            self.tombs.insert(id.to_owned(), tomb);
        }
        if clear {
            Self::clear_history(id, upto, fx);
        }
        match self.get(id) {
            Some(c) if upto >= c.last_seq() => {
                fx.touch(id, true);
                self.remove(id);
                // Removals apply before puts: drop this batch's earlier put of it.
                fx.batch
                    .put_conversations
                    .retain(|c| c.conversation_id != id);
                fx.batch.remove_conversations.push(id.to_owned());
                fx.deleted(id);
            }
            Some(_) => {} // a newer message already brought it back
            // This client's own deletion whose push was applied first has fired already.
            None if origin == Origin::Local && newer_tomb => fx.deleted(id),
            None => {}
        }
    }

    /// Whether a conversation's local state may be newer than a snapshot as of `cursor`
    /// whose request was sent at `mark`.
    fn newer_than(&self, id: &str, cursor: u64, mark: u64) -> bool {
        self.version(id) > cursor || self.unsequenced.get(id).is_some_and(|g| *g > mark)
    }

    /// A full list from the server in pages, requested at `mark`: what it lacks was deleted,
    /// what it holds is current, except for conversations changed after the page that covers
    /// them was read.
    pub fn reset(&mut self, pages: &[ResetPage], mark: u64, fx: &mut Effects) {
        let server: Vec<Conversation> = pages
            .iter()
            .flat_map(|p| p.conversations.iter().cloned())
            .collect();
        let server = &server[..];
        // The store also removes what only another tab knew (see `Prune`).
        let prune = Prune {
            pages: pages
                .iter()
                .map(|p| (p.upto_id.clone(), p.cursor))
                .collect(),
            listed: server.iter().map(|c| c.conversation_id.clone()).collect(),
        };
        let cursor_of = |id: &str| prune.cursor_of(id);
        let floor = pages.iter().map(|p| p.cursor).min().unwrap_or(0);
        // The IDs the server listed, as a set (values unused) of the map type the state already
        // has: one more map type is one more copy of the map code in the wasm.
        let listed: HashMap<String, u64> = server
            .iter()
            .map(|c| (c.conversation_id.clone(), 0))
            .collect();
        // A reset skips feed entries, so a deletion that cleared history may never be seen
        // here: cached messages older than each conversation's newest one are forgotten (the
        // server still serves what is visible) rather than risk showing hidden ones.
        let mut newest: HashMap<String, u64> = HashMap::default();
        let live = self.live().chain(server.iter());
        for c in live {
            let n = newest.entry(c.conversation_id.clone()).or_default();
            *n = (*n).max(c.last_seq().saturating_sub(1));
        }
        for t in self.tombs.values() {
            newest
                .entry(t.conversation_id.clone())
                .or_insert(t.upto_seq);
        }
        for (id, upto) in &newest {
            if *upto > 0 {
                Self::clear_history(id, *upto, fx);
            }
        }
        let gone: Vec<(String, u64)> = self
            .live()
            .filter(|c| !listed.contains_key(&c.conversation_id))
            .filter(|c| {
                let id = &c.conversation_id;
                !self.newer_than(id, cursor_of(id), mark)
            })
            .map(|c| (c.conversation_id.clone(), c.last_seq()))
            .collect();
        for (id, upto) in gone {
            self.apply_delete(&id, true, upto, Origin::Remote, fx);
            self.versions.insert(id.clone(), cursor_of(&id));
        }
        for c in server {
            let id = &c.conversation_id;
            let cursor = cursor_of(id);
            if self.newer_than(id, cursor, mark) {
                continue;
            }
            self.versions.insert(id.clone(), cursor);
            let local = self.get(id);
            if local != Some(c) {
                fx.touch(id, local.is_some());
                fx.batch.put_conversations.push(c.clone());
                self.insert(c.clone());
            }
        }
        self.reset_floor = self.reset_floor.max(floor);
        fx.batch.prune = Some(prune);
    }
}

/// One page of a reset reply: `conversations` as of feed seq `cursor`, covering the IDs after
/// the previous page's `upto_id` up to its own (`None`: to the end).
#[derive(Clone, Debug, Default)]
pub struct ResetPage {
    pub cursor: u64,
    pub conversations: Vec<Conversation>,
    pub upto_id: Option<String>,
}

/// A conversation ordered oldest-greatest (orderKey, then ID, as the list is): a max-heap of them
/// keeps its oldest on top, and sorted ascending they are newest first.
struct Older<'a>(&'a Conversation);

impl Ord for Older<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.0, other.0);
        (b.order_key, &b.conversation_id).cmp(&(a.order_key, &a.conversation_id))
    }
}

impl PartialOrd for Older<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Older<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Older<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::{conversation, message};

    fn updated(id: &str, order: u64, unread: u32, seq: u64) -> Change {
        Change::ConversationUpdated {
            conversation: conversation(id, order, unread, seq),
            message: Some(message(id, seq)),
        }
    }

    fn deleted(id: &str, upto: u64, clear: bool) -> Change {
        Change::ConversationDeleted {
            conversation_id: id.into(),
            clear_message: clear,
            upto_seq: upto,
        }
    }

    fn run(state: &mut LocalState, changes: &[Change], origin: Origin) -> Vec<Event> {
        let mut fx = Effects::new(state);
        for c in changes {
            state.apply(c, 0, origin, &mut fx);
        }
        fx.events(state, IdStyle::Native)
    }

    #[test]
    fn every_order_of_the_same_changes_converges() {
        let changes = [
            updated("c2c_a", 1, 1, 1),
            updated("c2c_a", 2, 2, 2),
            deleted("c2c_a", 2, true),
            updated("c2c_b", 3, 1, 1),
            updated("c2c_a", 4, 1, 3),
            updated("c2c_b", 3, 0, 1),
        ];
        let reference = {
            let mut s = LocalState::default();
            run(&mut s, &changes, Origin::Remote);
            s.page(0, 100, IdStyle::Native)
        };
        assert_eq!(reference.conversation_list.len(), 2);
        assert_eq!(reference.conversation_list[0].unread_count, 1);
        assert_eq!(reference.conversation_list[1].unread_count, 0);
        // Every rotation, the reverse, and everything applied twice.
        for k in 0..changes.len() {
            let mut order: Vec<_> = changes.to_vec();
            order.rotate_left(k);
            for seq in [order.clone(), order.iter().rev().cloned().collect()] {
                let mut s = LocalState::default();
                run(&mut s, &seq, Origin::Remote);
                run(&mut s, &seq, Origin::Remote);
                assert_eq!(s.page(0, 100, IdStyle::Native), reference, "order {seq:?}");
            }
        }
    }

    #[test]
    fn deletion_fires_once_and_old_messages_do_not_revive() {
        let mut s = LocalState::default();
        run(&mut s, &[updated("c2c_a", 1, 3, 5)], Origin::Remote);
        let ev = run(&mut s, &[deleted("c2c_a", 5, false)], Origin::Remote);
        assert_eq!(
            ev,
            vec![
                Event::ConversationDeleted(vec!["c2c_a".into()]),
                Event::TotalUnreadChanged(0)
            ]
        );
        assert!(run(&mut s, &[deleted("c2c_a", 5, false)], Origin::Remote).is_empty());
        assert!(run(&mut s, &[updated("c2c_a", 1, 3, 5)], Origin::Remote).is_empty());
        let ev = run(&mut s, &[updated("c2c_a", 9, 1, 6)], Origin::Remote);
        assert!(matches!(&ev[0], Event::NewConversation(c) if c[0].conversation_id == "c2c_a"));
        assert!(matches!(&ev[1], Event::RecvNewMessage(m) if m.seq == 6));
    }

    #[test]
    fn own_deletion_pushed_before_the_reply_fires_once() {
        let mut s = LocalState::default();
        run(&mut s, &[updated("c2c_a", 1, 0, 2)], Origin::Remote);
        let pushed = run(&mut s, &[deleted("c2c_a", 2, true)], Origin::Remote);
        assert_eq!(pushed[0], Event::ConversationDeleted(vec!["c2c_a".into()]));
        let local = run(&mut s, &[deleted("c2c_a", 2, true)], Origin::Local);
        assert!(local.is_empty(), "{local:?}");
    }

    #[test]
    fn own_messages_are_not_received() {
        let mut s = LocalState {
            me: "peer".into(),
            ..Default::default()
        };
        let ev = run(&mut s, &[updated("c2c_a", 1, 0, 1)], Origin::Remote);
        assert!(matches!(&ev[0], Event::NewConversation(_)));
        assert!(!ev.iter().any(|e| matches!(e, Event::RecvNewMessage(_))));
    }

    #[test]
    fn local_delete_of_unknown_conversation_still_reports_it() {
        let mut s = LocalState::default();
        let ev = run(&mut s, &[deleted("group_g", 0, true)], Origin::Local);
        assert_eq!(ev, vec![Event::ConversationDeleted(vec!["group_g".into()])]);
        let ev = run(&mut s, &[deleted("group_g", 0, true)], Origin::Remote);
        assert!(ev.is_empty());
    }

    #[test]
    fn paging_by_order_key() {
        let mut s = LocalState::default();
        let changes: Vec<_> = (1..=7)
            .map(|i| updated(&format!("c2c_u{i}"), i * 10, 0, 1))
            .collect();
        run(&mut s, &changes, Origin::Remote);
        let p1 = s.page(0, 3, IdStyle::Web);
        let ids: Vec<_> = p1
            .conversation_list
            .iter()
            .map(|c| c.conversation_id.as_str())
            .collect();
        assert_eq!(ids, vec!["C2Cu7", "C2Cu6", "C2Cu5"]);
        assert!(!p1.is_finished);
        assert_eq!(p1.next_seq, 50);
        let p2 = s.page(p1.next_seq, 3, IdStyle::Native);
        let p3 = s.page(p2.next_seq, 3, IdStyle::Native);
        assert_eq!(p3.conversation_list.len(), 1);
        assert!(p3.is_finished);
        let p4 = s.page(0, 7, IdStyle::Native);
        assert!(p4.is_finished);
    }

    #[test]
    fn reset_removes_what_the_server_lacks() {
        let mut s = LocalState::default();
        run(
            &mut s,
            &[updated("c2c_a", 1, 1, 1), updated("c2c_b", 2, 0, 1)],
            Origin::Remote,
        );
        let mark = s.sync_mark();
        let ev = reset(
            &mut s,
            &[
                conversation("c2c_b", 2, 0, 1),
                conversation("c2c_c", 3, 2, 4),
            ],
            0,
            mark,
        );
        assert_eq!(ev[0], Event::ConversationDeleted(vec!["c2c_a".into()]));
        assert!(
            matches!(&ev[1], Event::NewConversation(c) if c.len() == 1 && c[0].conversation_id == "c2c_c")
        );
        assert_eq!(ev[2], Event::TotalUnreadChanged(2));
        assert_eq!(ev.len(), 3);
    }

    fn reset(s: &mut LocalState, server: &[Conversation], cursor: u64, mark: u64) -> Vec<Event> {
        let mut fx = Effects::new(s);
        let page = ResetPage {
            cursor,
            conversations: server.to_vec(),
            upto_id: None,
        };
        s.reset(&[page], mark, &mut fx);
        fx.events(s, IdStyle::Native)
    }

    fn apply_seq(s: &mut LocalState, change: &Change, seq: u64) -> Vec<Event> {
        let mut fx = Effects::new(s);
        s.apply(change, seq, Origin::Local, &mut fx);
        fx.events(s, IdStyle::Native)
    }

    #[test]
    fn reset_keeps_what_is_newer_than_its_cursor() {
        let mut s = LocalState::default();
        apply_seq(&mut s, &updated("c2c_a", 1, 0, 1), 1);
        apply_seq(&mut s, &updated("c2c_b", 2, 0, 1), 2);
        apply_seq(&mut s, &updated("c2c_c", 3, 1, 1), 3);
        // A snapshot as of seq 1: c2c_b and c2c_c are newer, whatever the snapshot says of them.
        let ev = reset(&mut s, &[conversation("c2c_c", 3, 5, 1)], 1, 0);
        assert_eq!(ev[0], Event::ConversationDeleted(vec!["c2c_a".into()]));
        assert_eq!(ev.len(), 1, "only the deletion: {ev:?}");
        let page = s.page(0, 10, IdStyle::Native).conversation_list;
        assert_eq!(page.len(), 2);
        assert_eq!(s.total_unread(), 1, "c2c_c kept its newer unread count");
        // A deletion newer than the snapshot is not undone either.
        apply_seq(&mut s, &deleted("c2c_b", 1, false), 4);
        let snapshot = [
            conversation("c2c_b", 2, 0, 1),
            conversation("c2c_c", 3, 1, 1),
        ];
        assert!(reset(&mut s, &snapshot, 3, 0).is_empty());
        assert!(s.get("c2c_b").is_none());
        // A stale change below the reset's cursor is skipped.
        assert!(apply_seq(&mut s, &updated("c2c_a", 9, 4, 7), 1).is_empty());
    }

    #[test]
    fn store_writes_carry_versions_and_whole_conversations() {
        let mut s = LocalState::default();
        apply_seq(&mut s, &updated("c2c_a", 1, 2, 1), 3);
        // A deletion of a conversation this tab never held still removes it from the store
        // (another tab may have stored it), at the deletion's version.
        let mut fx = Effects::new(&s);
        s.apply(&deleted("c2c_b", 2, false), 5, Origin::Remote, &mut fx);
        s.stamp(&mut fx.batch);
        assert_eq!(fx.batch.remove_conversations, vec!["c2c_b".to_owned()]);
        assert_eq!(fx.batch.versions, vec![("c2c_b".to_owned(), 5)]);
        // An update this tab keeps its own (newer) record over still writes that record.
        let mut fx = Effects::new(&s);
        s.apply(&updated("c2c_a", 1, 2, 1), 6, Origin::Remote, &mut fx);
        s.stamp(&mut fx.batch);
        assert_eq!(
            fx.batch.put_conversations,
            vec![s.get("c2c_a").unwrap().clone()]
        );
        assert_eq!(fx.batch.versions, vec![("c2c_a".to_owned(), 6)]);
    }

    #[test]
    fn change_without_feed_seq_survives_resets_requested_before_it() {
        let mut s = LocalState::default();
        let mark = s.sync_mark();
        apply_seq(&mut s, &updated("c2c_a", 1, 0, 1), 0);
        assert!(reset(&mut s, &[], 0, mark).is_empty());
        assert!(s.get("c2c_a").is_some());
        // A reset requested after the change knows it: it may remove it.
        let mark = s.sync_mark();
        let ev = reset(&mut s, &[], 5, mark);
        assert_eq!(ev[0], Event::ConversationDeleted(vec!["c2c_a".into()]));
    }

    #[test]
    fn each_conversation_is_judged_by_the_page_that_covers_it() {
        let mut s = LocalState::default();
        apply_seq(&mut s, &updated("c2c_a", 1, 0, 1), 1);
        apply_seq(&mut s, &updated("c2c_x", 2, 0, 1), 3);
        apply_seq(&mut s, &updated("c2c_y", 3, 0, 1), 6);
        // Page 1 (IDs up to c2c_b) was read at seq 2, page 2 (the rest) at seq 5.
        let pages = [
            ResetPage {
                cursor: 2,
                conversations: vec![conversation("c2c_a", 1, 0, 1)],
                upto_id: Some("c2c_b".into()),
            },
            ResetPage {
                cursor: 5,
                conversations: vec![],
                upto_id: None,
            },
        ];
        let mut fx = Effects::new(&s);
        s.reset(&pages, s.sync_mark(), &mut fx);
        let ev = fx.events(&s, IdStyle::Native);
        // c2c_x (seq 3) is older than page 2, which lacks it: deleted. c2c_y (seq 6) is newer.
        assert_eq!(ev, vec![Event::ConversationDeleted(vec!["c2c_x".into()])]);
        let ids: Vec<_> = s
            .page(0, 10, IdStyle::Native)
            .conversation_list
            .into_iter()
            .map(|c| c.conversation_id)
            .collect();
        assert_eq!(ids, vec!["c2c_y", "c2c_a"]);
    }
}
