//! A `history` page, shared by the storage backends: newest first, at most `count` messages,
//! read range by range from the seqs the user may see. A backend only runs the range queries.

use crate::stored_rows::ConversationRow;
use chat_core::model::Message;
use chat_core::rules::Membership;
use chat_core::wire::HistoryReply;

pub struct HistoryPage {
    count: usize,
    ranges: std::vec::IntoIter<(u64, u64)>,
    message_list: Vec<Message>,
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
            message_list: Vec::with_capacity(count.min(100)),
        }
    }

    /// The next seq range to read, newest first, and how many messages it may still give; None
    /// once the page is full or every range was read.
    pub fn next_range(&mut self) -> Option<(u64, u64, usize)> {
        let left = self.count - self.message_list.len();
        if left == 0 {
            return None;
        }
        self.ranges.next().map(|(lo, hi)| (lo, hi, left))
    }

    /// Adds the messages read for the last range, newest first.
    pub fn extend(&mut self, messages: impl IntoIterator<Item = Message>) {
        self.message_list.extend(messages);
    }

    pub fn into_reply(self) -> HistoryReply {
        HistoryReply {
            message_list: self.message_list,
        }
    }
}
