//! Conversation rules that both the SDK engine and the server apply. Each is written once here so
//! that a storage backend only persists decisions (limits, distinct delete lists, thread keys,
//! self-sends, what a group member may see).

use crate::error::{quote, ChatError, ErrorCode, Result};
use crate::id::ConversationId;
use crate::wire::{MAX_DELETE_BATCH, MAX_TEXT_BYTES};
use std::collections::BTreeSet;

/// Text messages are 1–`MAX_TEXT_BYTES` bytes.
pub fn check_text(text: &str) -> Result<()> {
    if text.is_empty() || text.len() > MAX_TEXT_BYTES {
        return Err(ChatError::invalid(format!(
            "text must be 1-{MAX_TEXT_BYTES} bytes, got {} bytes",
            text.len()
        )));
    }
    Ok(())
}

/// A delete batch holds 1–`MAX_DELETE_BATCH` IDs; a longer one deletes nothing.
pub fn check_delete_batch(len: usize) -> Result<()> {
    if len == 0 {
        return Err(ChatError::invalid("conversationIDList must not be empty"));
    }
    if len > MAX_DELETE_BATCH {
        return Err(ChatError::invalid(format!(
            "conversationIDList has {len} items, at most {MAX_DELETE_BATCH} are allowed (nothing was deleted)"
        )));
    }
    Ok(())
}

/// The distinct items of a delete list in first-seen order: valid IDs collapse by conversation
/// (either ID style), invalid ones by their text.
pub fn distinct_delete_list<'a>(
    raws: impl IntoIterator<Item = &'a str>,
) -> Vec<(String, Result<ConversationId>)> {
    // At most 100 items (checked before): a linear scan is cheap and keeps a set type (and its
    // code) out of the wasm.
    let mut out: Vec<(String, Result<ConversationId>)> = Vec::new();
    for raw in raws {
        let parsed = ConversationId::parse(raw);
        let seen = out.iter().any(|(seen_raw, seen)| match (seen, &parsed) {
            (Ok(a), Ok(b)) => a == b,
            (Err(_), Err(_)) => seen_raw == raw,
            _ => false,
        });
        if !seen {
            out.push((raw.to_owned(), parsed));
        }
    }
    out
}

/// Sending to your own C2C conversation is refused; `shown` is the ID as the caller wrote it.
pub fn check_not_self(user: &str, id: &ConversationId, shown: &str) -> Result<()> {
    match id {
        ConversationId::C2c(peer) if peer == user => Err(ChatError::invalid(format!(
            "cannot send to yourself: {}",
            quote(shown)
        ))),
        _ => Ok(()),
    }
}

/// The shared history a conversation ID names, as seen by `user`: one per unordered user pair,
/// one per group.
pub fn thread_key(user: &str, id: &ConversationId) -> String {
    match id {
        ConversationId::C2c(peer) => {
            let (a, b) = if user <= peer.as_str() {
                (user, peer.as_str())
            } else {
                (peer.as_str(), user)
            };
            format!("c2c:{a}:{b}")
        }
        ConversationId::Group(g) => group_thread_key(g),
    }
}

/// The thread of a group (the same for every member).
pub fn group_thread_key(group: &str) -> String {
    format!("group:{group}")
}

/// 10007 for a group the user is not (or no longer) a member of.
pub fn not_member(group: &str) -> ChatError {
    ChatError::new(
        ErrorCode::NoPermission,
        format!("not a member of group {}", quote(group)),
    )
}

/// A time a user was out of a group: messages with `left < seq <= back` (no `back`: still out)
/// were posted while they were not a member, so they never see them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Absence {
    pub left: u64,
    pub back: Option<u64>,
}

/// Whether a user with these absences may see message `seq` of the group.
pub fn can_see(absences: &[Absence], seq: u64) -> bool {
    !absences
        .iter()
        .any(|a| seq > a.left && a.back.is_none_or(|b| seq <= b))
}

/// The newest seq (≤ `last`, the thread's newest) the user may see, 0 if none.
pub fn newest_visible(absences: &[Absence], last: u64) -> u64 {
    let mut seq = last;
    // Step below each absence that covers `seq`; absences may come in any order.
    while seq > 0 {
        match absences
            .iter()
            .find(|a| seq > a.left && a.back.is_none_or(|b| seq <= b))
        {
            Some(a) => seq = a.left,
            None => return seq,
        }
    }
    0
}

/// The seq ranges (inclusive, newest first) the user may read with `cleared < seq < before` and
/// `seq <= last`: history reads them in order until a page is full.
pub fn visible_ranges(
    absences: &[Absence],
    cleared: u64,
    before: u64,
    last: u64,
) -> Vec<(u64, u64)> {
    let mut hi = last.min(before.saturating_sub(1));
    let mut out = Vec::new();
    while hi > cleared {
        hi = newest_visible(absences, hi);
        if hi <= cleared {
            break;
        }
        // This run starts after the latest absence that ended below it (every absence covering
        // a seq in between would also cover `hi`).
        let lo = absences
            .iter()
            .filter_map(|a| a.back.filter(|&b| b < hi).map(|b| b + 1))
            .max()
            .unwrap_or(1)
            .max(cleared + 1);
        out.push((lo, hi));
        hi = lo - 1;
    }
    out
}

/// What a user may do in a thread: C2C threads are open to both users; in a group, sending needs
/// membership, and reading hides what was posted while the user was out of the group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub member: bool,
    pub absences: Vec<Absence>,
}

impl Membership {
    pub fn c2c() -> Self {
        Membership {
            member: true,
            absences: Vec::new(),
        }
    }

    /// 10007 unless the user may post to `id`.
    pub fn check_send(&self, id: &ConversationId) -> Result<()> {
        match id {
            ConversationId::Group(g) if !self.member => Err(not_member(g)),
            _ => Ok(()),
        }
    }

    /// 10007 for a group the user never belonged to and has no conversation with.
    pub fn check_read(&self, id: &ConversationId, has_conversation: bool) -> Result<()> {
        match id {
            ConversationId::Group(g)
                if !self.member && !has_conversation && self.absences.is_empty() =>
            {
                Err(not_member(g))
            }
            _ => Ok(()),
        }
    }

    /// The newest seq of a thread whose newest is `last` that this user may see (0: none).
    pub fn newest_visible(&self, last: u64) -> u64 {
        newest_visible(&self.absences, last)
    }

    /// See [`visible_ranges`].
    pub fn visible_ranges(&self, cleared: u64, before: u64, last: u64) -> Vec<(u64, u64)> {
        visible_ranges(&self.absences, cleared, before, last)
    }
}

/// Who a new member list removes and who it adds (each sorted, without duplicates).
pub fn membership_change(old: &[String], new: &[String]) -> (Vec<String>, Vec<String>) {
    let old: BTreeSet<&String> = old.iter().collect();
    let new: BTreeSet<&String> = new.iter().collect();
    (
        old.difference(&new).map(|s| s.to_string()).collect(),
        new.difference(&old).map(|s| s.to_string()).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_lists_collapse_both_id_styles() {
        let list = distinct_delete_list(["c2c_a", "C2Ca", "bad", "bad", "c2c_b", "c2c_a"]);
        let raws: Vec<_> = list.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(raws, ["c2c_a", "bad", "c2c_b"]);
        assert!(list[1].1.is_err());
    }

    #[test]
    fn limits_name_the_bad_value() {
        assert!(check_text("x").is_ok());
        assert!(check_text("").unwrap_err().message.contains("got 0 bytes"));
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        assert_eq!(check_text(&long).unwrap_err().code, 6017);
        assert!(check_delete_batch(0).is_err());
        assert!(check_delete_batch(101)
            .unwrap_err()
            .message
            .contains("101 items"));
        assert!(check_delete_batch(100).is_ok());
    }

    #[test]
    fn thread_key_is_the_same_from_both_sides() {
        let ab = thread_key("alice", &ConversationId::c2c("bob"));
        assert_eq!(ab, thread_key("bob", &ConversationId::c2c("alice")));
        let e = check_not_self("alice", &ConversationId::c2c("alice"), "C2C_alice").unwrap_err();
        assert!(e.message.contains("C2C_alice"));
    }

    #[test]
    fn absences_hide_what_was_posted_while_out() {
        // Out after 3 until 6, out again after 9 (still out).
        let gaps = [
            Absence {
                left: 3,
                back: Some(6),
            },
            Absence {
                left: 9,
                back: None,
            },
        ];
        let seen: Vec<u64> = (1..=12).filter(|&s| can_see(&gaps, s)).collect();
        assert_eq!(seen, [1, 2, 3, 7, 8, 9]);
        assert_eq!(newest_visible(&gaps, 12), 9);
        assert_eq!(newest_visible(&gaps, 6), 3);
        assert_eq!(newest_visible(&[], 5), 5);
        assert_eq!(visible_ranges(&gaps, 0, u64::MAX, 12), [(7, 9), (1, 3)]);
        assert_eq!(visible_ranges(&gaps, 2, 9, 12), [(7, 8), (3, 3)]);
        assert_eq!(visible_ranges(&[], 0, u64::MAX, 0), []);
        let all: Vec<u64> = visible_ranges(&gaps, 0, u64::MAX, 12)
            .iter()
            .flat_map(|&(lo, hi)| (lo..=hi).rev())
            .collect();
        assert_eq!(all, [9, 8, 7, 3, 2, 1]);
    }
}
