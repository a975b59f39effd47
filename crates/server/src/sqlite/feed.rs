//! The per-user change feed in SQLite: entries reference their messages by (thread, seq) rather
//! than carrying a copy per participant, and are rebuilt when read; replies are bounded (entry
//! count, reset page size, about `REPLY_BYTES` of JSON).

use super::{build_conversation, cached_row, ensure_user, exec, load_message, sql_failed, to_row};
use crate::reply_budget::ReplyBudget;
use crate::stored_rows::{to_sql_int, StoredEntry, ROW_COLUMNS};
use chat_core::error::Result;
use chat_core::wire::{Change, ChangeEnvelope, ChangesReply};
use rusqlite::{params, Connection, OptionalExtension};

/// The feed entries a write appended, published after its commit.
pub(super) struct Feed(pub(super) Vec<(String, ChangeEnvelope)>);

impl Feed {
    /// Appends `change` to `user`'s feed and returns its seq.
    pub(super) fn append(&mut self, c: &Connection, user: &str, change: Change) -> Result<u64> {
        let env = append_change(c, user, change)?;
        let seq = env.seq;
        self.0.push((user.to_owned(), env));
        Ok(seq)
    }
}

fn append_change(c: &Connection, user: &str, change: Change) -> Result<ChangeEnvelope> {
    ensure_user(c, user)?;
    let seq: i64 = cached_row(
        c,
        "UPDATE users SET feed_seq = feed_seq + 1 WHERE user_id = ?1 RETURNING feed_seq",
        [user],
        |r| r.get(0),
    )
    .map_err(sql_failed)?;
    let env = ChangeEnvelope {
        seq: seq as u64,
        change,
    };
    let e = StoredEntry::new(user, &env)?;
    exec(
        c,
        "INSERT INTO changes (user_id, seq, body, thread_id, last_seq, message_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![user, seq, e.body, e.thread_id, e.last_seq, e.message_seq],
    )
    .map_err(sql_failed)?;
    Ok(env)
}

/// Rebuilds a feed entry, loading the messages it references.
fn load_change(c: &Connection, entry: StoredEntry) -> Result<ChangeEnvelope> {
    let entry = entry.read()?;
    let mut loaded = [None, None];
    for (slot, wanted) in loaded.iter_mut().zip(entry.wanted()) {
        if let Some((thread, seq, conv)) = wanted {
            *slot = load_message(c, thread, seq, conv)?;
        }
    }
    Ok(entry.complete(loaded))
}

/// One page of a reset: live conversations with IDs after `after`, by ID.
fn reset_page(c: &Connection, user: &str, newest: u64, after: &str) -> Result<ChangesReply> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM user_conversations
             WHERE user_id = ?1 AND live = 1 AND conversation_id > ?2
             ORDER BY conversation_id LIMIT ?3"
        ))
        .map_err(sql_failed)?;
    let mut page = ReplyBudget::reset_page();
    let rows = stmt
        .query_map(
            params![user, after, to_sql_int(page.rows_to_fetch())],
            to_row,
        )
        .map_err(sql_failed)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql_failed)?;
    for row in &rows {
        if !page.has_room() || !page.admit(build_conversation(c, user, row)?)? {
            break;
        }
    }
    Ok(page.into_reset_reply(newest))
}

/// `GET /v1/changes`: entries after `since`, or a reset page after the conversation `after`.
pub(super) fn read(
    c: &Connection,
    user: &str,
    since: u64,
    after: &str,
    limit: usize,
) -> Result<ChangesReply> {
    let newest: i64 = cached_row(
        c,
        "SELECT feed_seq FROM users WHERE user_id = ?1",
        [user],
        |r| r.get(0),
    )
    .optional()
    .map_err(sql_failed)?
    .unwrap_or(0);
    let newest = newest as u64;
    if since == 0 || since > newest {
        return reset_page(c, user, newest, after);
    }
    let mut stmt = c
        .prepare_cached(
            "SELECT body, thread_id, last_seq, message_seq FROM changes
             WHERE user_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .map_err(sql_failed)?;
    let mut page = ReplyBudget::feed(limit);
    let mut rows = stmt
        .query(params![
            user,
            to_sql_int(since),
            to_sql_int(page.rows_to_fetch())
        ])
        .map_err(sql_failed)?;
    while let Some(r) = rows.next().map_err(sql_failed)? {
        if !page.has_room() {
            break;
        }
        let entry = StoredEntry {
            body: r.get(0).map_err(sql_failed)?,
            thread_id: r.get(1).map_err(sql_failed)?,
            last_seq: r.get(2).map_err(sql_failed)?,
            message_seq: r.get(3).map_err(sql_failed)?,
        };
        let env = load_change(c, entry)?;
        if !page.admit(env)? {
            break;
        }
    }
    Ok(page.into_feed_reply(since))
}
