//! A `history` page, shared by the storage backends: newest first, at most `count` messages and
//! about `REPLY_BYTES` of JSON, read range by range from the seqs the user may see. A backend
//! only runs the range queries.

use crate::reply_budget::ReplyBudget;
use crate::stored_rows::ConversationRow;
use chat_core::error::Result;
use chat_core::model::Message;
use chat_core::rules::Membership;
use chat_core::wire::HistoryReply;

pub struct HistoryPage {
    count: usize,
    ranges: std::vec::IntoIter<(u64, u64)>,
    budget: ReplyBudget<Message>,
}

impl HistoryPage {
    /// Messages with seq < `before_seq` (None or 0 = newest) that `member` may see, above the
    /// row's cleared seq, in a thread whose last seq is `last_seq`.
    pub fn new(
        member: &Membership,
        row: Option<&ConversationRow>,
        count: usize,
        before_seq: Option<u64>,
        last_seq: u64,
    ) -> Self {
        let cleared = row.map_or(0, |r| r.cleared_seq);
        let before = before_seq.filter(|&s| s > 0).unwrap_or(u64::MAX);
        HistoryPage {
            count,
            ranges: member.visible_ranges(cleared, before, last_seq).into_iter(),
            budget: ReplyBudget::history(count),
        }
    }

    /// The next seq range to read, newest first, and how many messages it may still give; None
    /// once the page is full or every range was read.
    pub fn next_range(&mut self) -> Option<(u64, u64, usize)> {
        if self.budget.is_full() {
            return None;
        }
        let left = self.count - self.budget.len();
        self.ranges.next().map(|(lo, hi)| (lo, hi, left))
    }

    /// Adds the messages read for the last range, newest first, until the byte budget is used.
    pub fn extend(&mut self, messages: impl IntoIterator<Item = Message>) -> Result<()> {
        for m in messages {
            if !self.budget.admit(m)? {
                break;
            }
        }
        Ok(())
    }

    pub fn into_reply(self) -> HistoryReply {
        self.budget.into_history_reply()
    }
}
