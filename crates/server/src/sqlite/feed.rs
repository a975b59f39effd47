//! The per-user change feed in SQLite: entries reference their messages by (thread, seq) rather
//! than carrying a copy per participant, and are rebuilt when read; replies are bounded (entry
//! count, reset page size, about `REPLY_BYTES` of JSON).

use super::{
    build_conversation, ensure_user, load_message, sql_failed, to_row, to_sql_int, ROW_COLUMNS,
};
use crate::error::server_error;
use crate::storage::REPLY_BYTES;
use chat_core::error::Result;
use chat_core::id::ConversationId;
use chat_core::rules;
use chat_core::wire::{Change, ChangeEnvelope, ChangesReply, MAX_RESET_PAGE};
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
    let seq: i64 = c
        .query_row(
            "UPDATE users SET feed_seq = feed_seq + 1 WHERE user_id = ?1 RETURNING feed_seq",
            [user],
            |r| r.get(0),
        )
        .map_err(sql_failed)?;
    let env = ChangeEnvelope {
        seq: seq as u64,
        change,
    };
    // Messages are stored once in their thread: the entry keeps (thread, seq) references.
    let mut stored = env.clone();
    let mut refs: (Option<String>, Option<i64>, Option<i64>) = (None, None, None);
    if let Change::ConversationUpdated {
        conversation,
        message,
    } = &mut stored.change
    {
        let id = ConversationId::parse(&conversation.conversation_id)?;
        refs.0 = Some(rules::thread_key(user, &id));
        refs.1 = conversation.last_message.take().map(|m| m.seq as i64);
        refs.2 = message.take().map(|m| m.seq as i64);
    }
    let body = serde_json::to_string(&stored).map_err(server_error)?;
    c.execute(
        "INSERT INTO changes (user_id, seq, body, thread_id, last_seq, message_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![user, seq, body, refs.0, refs.1, refs.2],
    )
    .map_err(sql_failed)?;
    Ok(env)
}

/// Rebuilds a feed entry, loading the messages it references.
fn load_change(
    c: &Connection,
    body: &str,
    thread: Option<String>,
    last: Option<i64>,
    message_seq: Option<i64>,
) -> Result<ChangeEnvelope> {
    let mut env: ChangeEnvelope = serde_json::from_str(body).map_err(server_error)?;
    if let (
        Some(thread),
        Change::ConversationUpdated {
            conversation,
            message,
        },
    ) = (thread, &mut env.change)
    {
        let conv = conversation.conversation_id.clone();
        if let Some(seq) = last {
            conversation.last_message = load_message(c, &thread, seq as u64, &conv)?;
        }
        if let Some(seq) = message_seq {
            *message = load_message(c, &thread, seq as u64, &conv)?;
        }
    }
    Ok(env)
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
    let rows = stmt
        .query_map(params![user, after, MAX_RESET_PAGE as i64 + 1], to_row)
        .map_err(sql_failed)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql_failed)?;
    let mut conversations = Vec::new();
    let mut bytes = 0;
    let mut has_more = false;
    for row in &rows {
        if conversations.len() == MAX_RESET_PAGE {
            has_more = true;
            break;
        }
        let conv = build_conversation(c, user, row)?;
        bytes += json_len(&conv)?;
        if bytes > REPLY_BYTES && !conversations.is_empty() {
            has_more = true;
            break;
        }
        conversations.push(conv);
    }
    Ok(ChangesReply {
        cursor: newest,
        reset: true,
        next_after: has_more
            .then(|| conversations.last().map(|c| c.conversation_id.clone()))
            .flatten(),
        conversations,
        changes: Vec::new(),
        has_more,
    })
}

fn json_len<T: serde::Serialize>(value: &T) -> Result<usize> {
    serde_json::to_vec(value)
        .map(|v| v.len())
        .map_err(server_error)
}

/// `GET /v1/changes`: entries after `since`, or a reset page after the conversation `after`.
pub(super) fn read(
    c: &Connection,
    user: &str,
    since: u64,
    after: &str,
    limit: usize,
) -> Result<ChangesReply> {
    let newest: i64 = c
        .query_row(
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
    let mut rows = stmt
        .query(params![
            user,
            to_sql_int(since),
            to_sql_int(limit as u64 + 1)
        ])
        .map_err(sql_failed)?;
    let mut changes = Vec::new();
    let mut bytes = 0;
    let mut has_more = false;
    while let Some(r) = rows.next().map_err(sql_failed)? {
        if changes.len() == limit {
            has_more = true;
            break;
        }
        let env = load_change(
            c,
            &r.get::<_, String>(0).map_err(sql_failed)?,
            r.get(1).map_err(sql_failed)?,
            r.get(2).map_err(sql_failed)?,
            r.get(3).map_err(sql_failed)?,
        )?;
        bytes += json_len(&env)?;
        if bytes > REPLY_BYTES && !changes.is_empty() {
            has_more = true;
            break;
        }
        changes.push(env);
    }
    Ok(ChangesReply {
        cursor: changes.last().map_or(since, |e| e.seq),
        reset: false,
        conversations: Vec::new(),
        changes,
        has_more,
        next_after: None,
    })
}
