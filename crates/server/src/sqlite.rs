//! SQLite implementation of `Storage`: one connection behind a mutex, used from blocking threads.
//! Writes run in one IMMEDIATE transaction that also appends the feed entries; the entries are
//! published to the sink after COMMIT while the connection lock is still held, so pushes follow
//! feed order.

use crate::error::server_error;
use crate::storage::{ChangeSink, Storage};
use async_trait::async_trait;
use chat_core::error::{quote, ChatError, ErrorCode, Result};
use chat_core::id::ConversationId;
use chat_core::model::{Conversation, Message};
use chat_core::wire::{
    Change, ChangeEnvelope, ChangesReply, ConversationListReply, HistoryReply, SendReply,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::sync::{Arc, Mutex};

/// Schema versions, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    feed_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE chat_groups (
    group_id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES chat_groups(group_id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(user_id),
    PRIMARY KEY (group_id, user_id)
);
CREATE TABLE threads (
    thread_id TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE messages (
    thread_id TEXT NOT NULL REFERENCES threads(thread_id),
    seq INTEGER NOT NULL,
    order_key INTEGER NOT NULL UNIQUE,
    sender TEXT NOT NULL,
    text TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (thread_id, seq)
);
CREATE TABLE user_conversations (
    user_id TEXT NOT NULL REFERENCES users(user_id),
    conversation_id TEXT NOT NULL,
    thread_id TEXT NOT NULL REFERENCES threads(thread_id),
    live INTEGER NOT NULL,
    upto_seq INTEGER NOT NULL DEFAULT 0,
    cleared_seq INTEGER NOT NULL DEFAULT 0,
    unread INTEGER NOT NULL DEFAULT 0,
    read_seq INTEGER NOT NULL DEFAULT 0,
    order_key INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conversation_id)
);
CREATE INDEX user_conversations_by_order ON user_conversations(user_id, live, order_key);
CREATE TABLE changes (
    user_id TEXT NOT NULL REFERENCES users(user_id),
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (user_id, seq)
) WITHOUT ROWID;
"#];

pub struct SqliteStorage {
    conn: Arc<Mutex<Option<Connection>>>,
    sink: Arc<dyn ChangeSink>,
}

fn db(e: rusqlite::Error) -> ChatError {
    server_error(e)
}

/// Client-supplied u64s may exceed SQLite's i64; clamp instead of failing.
fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl SqliteStorage {
    /// Opens (creating the parent directory) and migrates the database.
    pub fn open(path: &str, sink: Arc<dyn ChangeSink>) -> std::result::Result<Self, String> {
        let conn = if path == ":memory:" {
            Connection::open_in_memory()
        } else {
            if let Some(dir) = std::path::Path::new(path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                }
            }
            Connection::open(path)
        }
        .map_err(|e| format!("cannot open database {path}: {e}"))?;
        Self::prepare(&conn).map_err(|e| format!("cannot prepare database {path}: {e}"))?;
        Ok(SqliteStorage {
            conn: Arc::new(Mutex::new(Some(conn))),
            sink,
        })
    }

    fn prepare(conn: &Connection) -> rusqlite::Result<()> {
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
        )?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (n, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            conn.execute_batch(&format!(
                "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
                n + 1
            ))?;
        }
        Ok(())
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let guard = conn.lock().unwrap_or_else(|e| e.into_inner());
            let c = guard
                .as_ref()
                .ok_or_else(|| server_error("database closed"))?;
            f(c)
        })
        .await
        .map_err(server_error)?
    }

    /// Runs `f` in a transaction, appends the changes it returns to the users' feeds, commits,
    /// then publishes them.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction) -> Result<(T, Vec<(String, Change)>)> + Send + 'static,
    {
        let conn = self.conn.clone();
        let sink = self.sink.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|e| e.into_inner());
            let c = guard
                .as_mut()
                .ok_or_else(|| server_error("database closed"))?;
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            let (value, changes) = f(&tx)?;
            let mut envelopes = Vec::with_capacity(changes.len());
            for (user, change) in changes {
                let env = append_change(&tx, &user, change)?;
                envelopes.push((user, env));
            }
            tx.commit().map_err(db)?;
            for (user, env) in &envelopes {
                sink.publish(user, env);
            }
            Ok(value)
        })
        .await
        .map_err(server_error)?
    }
}

fn ensure_user(c: &Connection, user: &str) -> Result<()> {
    c.execute(
        "INSERT OR IGNORE INTO users (user_id, created_at) VALUES (?1, ?2)",
        params![user, now_ms()],
    )
    .map_err(db)?;
    Ok(())
}

fn append_change(c: &Connection, user: &str, change: Change) -> Result<ChangeEnvelope> {
    ensure_user(c, user)?;
    let seq: i64 = c
        .query_row(
            "UPDATE users SET feed_seq = feed_seq + 1 WHERE user_id = ?1 RETURNING feed_seq",
            [user],
            |r| r.get(0),
        )
        .map_err(db)?;
    let env = ChangeEnvelope {
        seq: seq as u64,
        change,
    };
    let body = serde_json::to_string(&env).map_err(server_error)?;
    c.execute(
        "INSERT INTO changes (user_id, seq, body) VALUES (?1, ?2, ?3)",
        params![user, seq, body],
    )
    .map_err(db)?;
    Ok(env)
}

/// The shared history a conversation ID names, as seen by `user`.
fn thread_id(user: &str, id: &ConversationId) -> String {
    match id {
        ConversationId::C2c(peer) => {
            let (a, b) = if user <= peer.as_str() {
                (user, peer.as_str())
            } else {
                (peer.as_str(), user)
            };
            format!("c2c:{a}:{b}")
        }
        ConversationId::Group(g) => format!("group:{g}"),
    }
}

struct Row {
    conversation_id: String,
    thread_id: String,
    live: bool,
    cleared_seq: u64,
    unread: u64,
    order_key: u64,
}

const ROW_COLUMNS: &str = "conversation_id, thread_id, live, cleared_seq, unread, order_key";

fn to_row(r: &rusqlite::Row) -> rusqlite::Result<Row> {
    Ok(Row {
        conversation_id: r.get(0)?,
        thread_id: r.get(1)?,
        live: r.get::<_, i64>(2)? != 0,
        cleared_seq: r.get::<_, i64>(3)? as u64,
        unread: r.get::<_, i64>(4)? as u64,
        order_key: r.get::<_, i64>(5)? as u64,
    })
}

fn load_row(c: &Connection, user: &str, conversation_id: &str) -> Result<Option<Row>> {
    c.query_row(
        &format!(
            "SELECT {ROW_COLUMNS} FROM user_conversations WHERE user_id = ?1 AND conversation_id = ?2"
        ),
        params![user, conversation_id],
        to_row,
    )
    .optional()
    .map_err(db)
}

fn last_seq(c: &Connection, thread: &str) -> Result<u64> {
    let seq: Option<i64> = c
        .query_row(
            "SELECT last_seq FROM threads WHERE thread_id = ?1",
            [thread],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?;
    Ok(seq.unwrap_or(0) as u64)
}

const MESSAGE_COLUMNS: &str = "seq, order_key, sender, text, timestamp";

/// A message row as the viewer sees it (`conversation_id` is relative to the viewer).
fn to_message(r: &rusqlite::Row, conversation_id: &str) -> rusqlite::Result<Message> {
    Ok(Message {
        seq: r.get::<_, i64>(0)? as u64,
        msg_id: format!("msg-{}", r.get::<_, i64>(1)?),
        sender: r.get(2)?,
        text: r.get(3)?,
        timestamp: r.get::<_, i64>(4)? as u64,
        conversation_id: conversation_id.to_owned(),
    })
}

fn load_message(c: &Connection, thread: &str, seq: u64, conv: &str) -> Result<Option<Message>> {
    c.query_row(
        &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = ?1 AND seq = ?2"),
        params![thread, i(seq)],
        |r| to_message(r, conv),
    )
    .optional()
    .map_err(db)
}

fn build_conversation(c: &Connection, row: &Row) -> Result<Conversation> {
    let id = ConversationId::parse(&row.conversation_id)?;
    let last = last_seq(c, &row.thread_id)?;
    let last_message = if last > row.cleared_seq {
        load_message(c, &row.thread_id, last, &row.conversation_id)?
    } else {
        None
    };
    let (user_id, group_id, show_name) = match &id {
        ConversationId::C2c(peer) => (Some(peer.clone()), None, peer.clone()),
        ConversationId::Group(g) => {
            let name: Option<String> = c
                .query_row(
                    "SELECT name FROM chat_groups WHERE group_id = ?1",
                    [g],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            (None, Some(g.clone()), name.unwrap_or_else(|| g.clone()))
        }
    };
    Ok(Conversation {
        conversation_id: row.conversation_id.clone(),
        kind: id.kind() as u8,
        user_id,
        group_id,
        show_name,
        unread_count: u32::try_from(row.unread).unwrap_or(u32::MAX),
        last_message,
        order_key: row.order_key,
    })
}

fn live_conversation(
    c: &Connection,
    user: &str,
    id: &ConversationId,
) -> Result<(Row, Conversation)> {
    let canonical = id.canonical();
    match load_row(c, user, &canonical)? {
        Some(row) if row.live => {
            let conv = build_conversation(c, &row)?;
            Ok((row, conv))
        }
        _ => Err(ChatError::not_found(&canonical)),
    }
}

fn is_member(c: &Connection, group: &str, user: &str) -> Result<bool> {
    c.query_row(
        "SELECT 1 FROM group_members WHERE group_id = ?1 AND user_id = ?2",
        params![group, user],
        |_| Ok(()),
    )
    .optional()
    .map(|o| o.is_some())
    .map_err(db)
}

fn not_member(group: &str) -> ChatError {
    ChatError::new(
        ErrorCode::NoPermission,
        format!("not a member of group {}", quote(group)),
    )
}

fn live_rows(c: &Connection, user: &str, below: u64, limit: usize) -> Result<Vec<Row>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM user_conversations
             WHERE user_id = ?1 AND live = 1 AND order_key < ?2
             ORDER BY order_key DESC LIMIT ?3"
        ))
        .map_err(db)?;
    let rows = stmt
        .query_map(params![user, i(below), i(limit as u64)], to_row)
        .map_err(db)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db)?;
    Ok(rows)
}

fn send_in(
    tx: &Transaction,
    user: &str,
    id: &ConversationId,
    text: &str,
    now_ms: u64,
) -> Result<(SendReply, Vec<(String, Change)>)> {
    let canonical = id.canonical();
    // (participant, the conversation ID as that participant sees it)
    let participants: Vec<(String, String)> = match id {
        ConversationId::C2c(peer) => {
            if peer == user {
                return Err(ChatError::invalid(format!(
                    "cannot send to yourself: {}",
                    quote(&canonical)
                )));
            }
            vec![
                (user.to_owned(), canonical.clone()),
                (peer.clone(), ConversationId::c2c(user).canonical()),
            ]
        }
        ConversationId::Group(g) => {
            if !is_member(tx, g, user)? {
                return Err(not_member(g));
            }
            let mut stmt = tx
                .prepare_cached(
                    "SELECT user_id FROM group_members WHERE group_id = ?1 ORDER BY user_id",
                )
                .map_err(db)?;
            let members = stmt
                .query_map([g], |r| r.get::<_, String>(0))
                .map_err(db)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db)?;
            members
                .into_iter()
                .map(|m| (m, canonical.clone()))
                .collect()
        }
    };
    let thread = thread_id(user, id);
    for (p, _) in &participants {
        ensure_user(tx, p)?;
    }
    tx.execute(
        "INSERT OR IGNORE INTO threads (thread_id, last_seq) VALUES (?1, 0)",
        [&thread],
    )
    .map_err(db)?;
    let seq: i64 = tx
        .query_row(
            "UPDATE threads SET last_seq = last_seq + 1 WHERE thread_id = ?1 RETURNING last_seq",
            [&thread],
            |r| r.get(0),
        )
        .map_err(db)?;
    let order_key: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(order_key), 0) + 1 FROM messages",
            [],
            |r| r.get(0),
        )
        .map_err(db)?;
    tx.execute(
        "INSERT INTO messages (thread_id, seq, order_key, sender, text, timestamp)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![thread, seq, order_key, user, text, i(now_ms)],
    )
    .map_err(db)?;
    let mut changes = Vec::with_capacity(participants.len());
    let mut reply = None;
    for (p, conv_id) in participants {
        let unread_inc = i64::from(p != user);
        tx.execute(
            "INSERT INTO user_conversations (user_id, conversation_id, thread_id, live, unread, order_key)
             VALUES (?1, ?2, ?3, 1, ?4, ?5)
             ON CONFLICT (user_id, conversation_id) DO UPDATE SET
                live = 1, unread = unread + excluded.unread, order_key = excluded.order_key",
            params![p, conv_id, thread, unread_inc, order_key],
        )
        .map_err(db)?;
        let row = load_row(tx, &p, &conv_id)?.ok_or_else(|| server_error("row vanished"))?;
        let conversation = build_conversation(tx, &row)?;
        let message = load_message(tx, &thread, seq as u64, &conv_id)?
            .ok_or_else(|| server_error("message vanished"))?;
        if p == user {
            reply = Some(SendReply {
                message: message.clone(),
                conversation: conversation.clone(),
                feed_seq: 0,
            });
        }
        changes.push((
            p,
            Change::ConversationUpdated {
                conversation,
                message: Some(message),
            },
        ));
    }
    let reply = reply.ok_or_else(|| server_error("sender is not a participant"))?;
    Ok((reply, changes))
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn ensure_user(&self, user_id: &str) -> Result<()> {
        let user = user_id.to_owned();
        self.write(move |tx| ensure_user(tx, &user).map(|()| ((), Vec::new())))
            .await
    }

    async fn list_conversations(
        &self,
        user_id: &str,
        next_seq: u64,
        count: usize,
    ) -> Result<ConversationListReply> {
        let user = user_id.to_owned();
        self.read(move |c| {
            let below = if next_seq == 0 { u64::MAX } else { next_seq };
            let mut rows = live_rows(c, &user, below, count + 1)?;
            let is_finished = rows.len() <= count;
            rows.truncate(count);
            let list = rows
                .iter()
                .map(|r| build_conversation(c, r))
                .collect::<Result<Vec<_>>>()?;
            Ok(ConversationListReply {
                next_seq: list.last().map_or(0, |c| c.order_key),
                conversation_list: list,
                is_finished,
            })
        })
        .await
    }

    async fn get_conversation(&self, user_id: &str, id: &ConversationId) -> Result<Conversation> {
        let (user, id) = (user_id.to_owned(), id.clone());
        self.read(move |c| live_conversation(c, &user, &id).map(|(_, conv)| conv))
            .await
    }

    async fn send_text(
        &self,
        user_id: &str,
        id: &ConversationId,
        text: &str,
        now_ms: u64,
    ) -> Result<SendReply> {
        let (user, id, text) = (user_id.to_owned(), id.clone(), text.to_owned());
        self.write(move |tx| send_in(tx, &user, &id, &text, now_ms))
            .await
    }

    async fn history(
        &self,
        user_id: &str,
        id: &ConversationId,
        count: usize,
        before_seq: Option<u64>,
    ) -> Result<HistoryReply> {
        let (user, id) = (user_id.to_owned(), id.clone());
        self.read(move |c| {
            let canonical = id.canonical();
            let cleared = match (load_row(c, &user, &canonical)?, &id) {
                (Some(row), _) => row.cleared_seq,
                (None, ConversationId::C2c(_)) => 0,
                (None, ConversationId::Group(g)) => {
                    if !is_member(c, g, &user)? {
                        return Err(not_member(g));
                    }
                    0
                }
            };
            let thread = thread_id(&user, &id);
            let before = before_seq.filter(|&s| s > 0).map_or(i64::MAX, i);
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages
                     WHERE thread_id = ?1 AND seq > ?2 AND seq < ?3
                     ORDER BY seq DESC LIMIT ?4"
                ))
                .map_err(db)?;
            let message_list = stmt
                .query_map(params![thread, i(cleared), before, i(count as u64)], |r| {
                    to_message(r, &canonical)
                })
                .map_err(db)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db)?;
            Ok(HistoryReply { message_list })
        })
        .await
    }

    async fn mark_read(&self, user_id: &str, id: &ConversationId) -> Result<Conversation> {
        let (user, id) = (user_id.to_owned(), id.clone());
        self.write(move |tx| {
            let (row, _) = live_conversation(tx, &user, &id)?;
            let last = last_seq(tx, &row.thread_id)?;
            tx.execute(
                "UPDATE user_conversations SET unread = 0, read_seq = ?3
                 WHERE user_id = ?1 AND conversation_id = ?2",
                params![user, row.conversation_id, i(last)],
            )
            .map_err(db)?;
            let (_, conversation) = live_conversation(tx, &user, &id)?;
            let change = Change::ConversationUpdated {
                conversation: conversation.clone(),
                message: None,
            };
            Ok((conversation, vec![(user.clone(), change)]))
        })
        .await
    }

    async fn delete_conversations(
        &self,
        user_id: &str,
        ids: &[ConversationId],
        clear_message: bool,
    ) -> Result<Vec<Result<u64>>> {
        let (user, ids) = (user_id.to_owned(), ids.to_vec());
        self.write(move |tx| {
            let mut results = Vec::with_capacity(ids.len());
            let mut changes = Vec::new();
            for id in ids {
                let canonical = id.canonical();
                let row = match load_row(tx, &user, &canonical)? {
                    Some(row) if row.live => row,
                    _ => {
                        results.push(Err(ChatError::not_found(&canonical)));
                        continue;
                    }
                };
                let upto = last_seq(tx, &row.thread_id)?;
                tx.execute(
                    "UPDATE user_conversations SET live = 0, upto_seq = ?3, unread = 0,
                        read_seq = ?3, cleared_seq = CASE WHEN ?4 THEN ?3 ELSE cleared_seq END
                     WHERE user_id = ?1 AND conversation_id = ?2",
                    params![user, canonical, i(upto), clear_message],
                )
                .map_err(db)?;
                changes.push((
                    user.clone(),
                    Change::ConversationDeleted {
                        conversation_id: canonical,
                        clear_message,
                        upto_seq: upto,
                    },
                ));
                results.push(Ok(upto));
            }
            Ok((results, changes))
        })
        .await
    }

    async fn changes(&self, user_id: &str, since: u64, limit: usize) -> Result<ChangesReply> {
        let user = user_id.to_owned();
        self.read(move |c| {
            let newest: i64 = c
                .query_row(
                    "SELECT feed_seq FROM users WHERE user_id = ?1",
                    [&user],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?
                .unwrap_or(0);
            let newest = newest as u64;
            if since == 0 || since > newest {
                let conversations = live_rows(c, &user, u64::MAX, usize::MAX >> 1)?
                    .iter()
                    .map(|r| build_conversation(c, r))
                    .collect::<Result<Vec<_>>>()?;
                return Ok(ChangesReply {
                    cursor: newest,
                    reset: true,
                    conversations,
                    changes: Vec::new(),
                    has_more: false,
                    next_after: None,
                });
            }
            let mut stmt = c
                .prepare_cached(
                    "SELECT body FROM changes WHERE user_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                )
                .map_err(db)?;
            let bodies = stmt
                .query_map(params![user, i(since), i(limit as u64 + 1)], |r| {
                    r.get::<_, String>(0)
                })
                .map_err(db)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db)?;
            let has_more = bodies.len() > limit;
            let changes = bodies
                .iter()
                .take(limit)
                .map(|b| serde_json::from_str::<ChangeEnvelope>(b).map_err(server_error))
                .collect::<Result<Vec<_>>>()?;
            Ok(ChangesReply {
                cursor: changes.last().map_or(since, |e| e.seq),
                reset: false,
                conversations: Vec::new(),
                changes,
                has_more,
                next_after: None,
            })
        })
        .await
    }

    async fn upsert_group(&self, group_id: &str, name: &str, members: &[String]) -> Result<()> {
        let (group, name, members) = (group_id.to_owned(), name.to_owned(), members.to_vec());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO chat_groups (group_id, name) VALUES (?1, ?2)
                 ON CONFLICT (group_id) DO UPDATE SET name = excluded.name",
                params![group, name],
            )
            .map_err(db)?;
            tx.execute("DELETE FROM group_members WHERE group_id = ?1", [&group])
                .map_err(db)?;
            for m in &members {
                ensure_user(tx, m)?;
                tx.execute(
                    "INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?1, ?2)",
                    params![group, m],
                )
                .map_err(db)?;
            }
            Ok(((), Vec::new()))
        })
        .await
    }

    async fn close(&self) {
        let conn = self.conn.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let taken = conn.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(c) = taken {
                if let Err((_, e)) = c.close() {
                    eprintln!("chat-server: closing database: {e}");
                }
            }
        })
        .await;
    }
}
