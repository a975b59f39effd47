//! SQLite implementation of `Storage`: one connection behind a mutex, used from blocking threads.
//! Writes run in one IMMEDIATE transaction that also appends the feed entries; after COMMIT the
//! entries are queued (fixing each user's order) and published once the connection lock is
//! released. Which messages a user may see is decided by `chat_core::rules`; this file only
//! loads and stores the facts those rules need.

use crate::error::server_error;
use crate::history_page::HistoryPage;
use crate::publish_order::OrderedPublisher;
use crate::reply_budget::ReplyBudget;
use crate::storage::{ChangeSink, Deleted, Storage};
use crate::stored_rows::{self, now_ms, to_sql_int, ConversationRow, MESSAGE_COLUMNS, ROW_COLUMNS};
use async_trait::async_trait;
use chat_core::error::{ChatError, Result};
use chat_core::id::ConversationId;
use chat_core::model::{Conversation, Message};
use chat_core::rules::{self, Absence};
use chat_core::wire::{
    Change, ChangesReply, ConversationListReply, HistoryReply, ReadReply, SendReply,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::sync::{Arc, Mutex};

mod feed;
use feed::Feed;

/// Schema versions, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r#"
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
"#,
    // Group absences (what a removed member must not see), and feed entries that reference their
    // messages by (thread, seq) instead of carrying a copy of the text per participant.
    r#"
CREATE TABLE group_absences (
    group_id TEXT NOT NULL REFERENCES chat_groups(group_id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(user_id),
    left_seq INTEGER NOT NULL,
    back_seq INTEGER,
    PRIMARY KEY (group_id, user_id, left_seq)
);
ALTER TABLE changes ADD COLUMN thread_id TEXT;
ALTER TABLE changes ADD COLUMN last_seq INTEGER;
ALTER TABLE changes ADD COLUMN message_seq INTEGER;
"#,
    // WebSocket tickets in the database, as on PostgreSQL (see auth::Tickets).
    r#"
CREATE TABLE ws_tickets (
    digest TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX ws_tickets_by_expiry ON ws_tickets(expires_ms);
CREATE INDEX ws_tickets_by_user ON ws_tickets(user_id, expires_ms);
"#,
];

pub struct SqliteStorage {
    conn: Arc<Mutex<Option<Connection>>>,
    publisher: Arc<OrderedPublisher>,
}

/// Statements kept prepared per connection: every statement of this file fits, so none is parsed
/// again (parsing was about a fifth of a write's CPU time).
const STATEMENT_CACHE: usize = 64;

/// `Connection::execute` through the statement cache.
fn exec(c: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(params)
}

/// `Connection::query_row` through the statement cache.
fn cached_row<T>(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    c.prepare_cached(sql)?.query_row(params, f)
}

/// Maps a SQLite failure to 9530.
fn sql_failed(e: rusqlite::Error) -> ChatError {
    server_error(e)
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
            publisher: Arc::new(OrderedPublisher::new(sink)),
        })
    }

    fn prepare(conn: &Connection) -> rusqlite::Result<()> {
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
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

    /// Runs `f` in a transaction (it appends feed entries through `Feed`), commits, queues the
    /// entries under the connection lock, then publishes them after releasing it.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction, &mut Feed) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        let publisher = self.publisher.clone();
        tokio::task::spawn_blocking(move || {
            let (value, users) = {
                let mut guard = conn.lock().unwrap_or_else(|e| e.into_inner());
                let c = guard
                    .as_mut()
                    .ok_or_else(|| server_error("database closed"))?;
                let tx = c
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(sql_failed)?;
                let mut feed = Feed(Vec::new());
                let value = f(&tx, &mut feed)?;
                tx.commit().map_err(sql_failed)?;
                (value, publisher.enqueue(feed.0))
            };
            publisher.drain(&users);
            Ok(value)
        })
        .await
        .map_err(server_error)?
    }
}

fn ensure_user(c: &Connection, user: &str) -> Result<()> {
    exec(
        c,
        "INSERT OR IGNORE INTO users (user_id, created_at) VALUES (?1, ?2)",
        params![user, now_ms()],
    )
    .map_err(sql_failed)?;
    Ok(())
}

fn to_row(r: &rusqlite::Row) -> rusqlite::Result<ConversationRow> {
    Ok(ConversationRow {
        conversation_id: r.get(0)?,
        thread_id: r.get(1)?,
        live: r.get::<_, i64>(2)? != 0,
        cleared_seq: r.get::<_, i64>(3)? as u64,
        unread: r.get::<_, i64>(4)? as u64,
        order_key: r.get::<_, i64>(5)? as u64,
    })
}

fn load_row(c: &Connection, user: &str, conversation_id: &str) -> Result<Option<ConversationRow>> {
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM user_conversations WHERE user_id = ?1 AND conversation_id = ?2"
    );
    cached_row(c, &sql, params![user, conversation_id], to_row)
        .optional()
        .map_err(sql_failed)
}

fn last_seq(c: &Connection, thread: &str) -> Result<u64> {
    let seq: Option<i64> = cached_row(
        c,
        "SELECT last_seq FROM threads WHERE thread_id = ?1",
        [thread],
        |r| r.get(0),
    )
    .optional()
    .map_err(sql_failed)?;
    Ok(seq.unwrap_or(0) as u64)
}

fn to_message(r: &rusqlite::Row, conversation_id: &str) -> rusqlite::Result<Message> {
    Ok(stored_rows::message(
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        conversation_id,
    ))
}

fn load_message(c: &Connection, thread: &str, seq: u64, conv: &str) -> Result<Option<Message>> {
    cached_row(
        c,
        &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = ?1 AND seq = ?2"),
        params![thread, to_sql_int(seq)],
        |r| to_message(r, conv),
    )
    .optional()
    .map_err(sql_failed)
}

fn build_conversation(c: &Connection, user: &str, row: &ConversationRow) -> Result<Conversation> {
    let id = ConversationId::parse(&row.conversation_id)?;
    let last = membership(c, user, &id)?.newest_visible(last_seq(c, &row.thread_id)?);
    let last_message = match row.shown_last(last) {
        Some(seq) => load_message(c, &row.thread_id, seq, &row.conversation_id)?,
        None => None,
    };
    let group_name = match &id {
        ConversationId::C2c(_) => None,
        ConversationId::Group(g) => cached_row(
            c,
            "SELECT name FROM chat_groups WHERE group_id = ?1",
            [g],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_failed)?,
    };
    Ok(row.conversation(&id, last_message, group_name))
}

fn live_conversation(
    c: &Connection,
    user: &str,
    id: &ConversationId,
) -> Result<(ConversationRow, Conversation)> {
    let canonical = id.canonical();
    match load_row(c, user, &canonical)? {
        Some(row) if row.live => {
            let conv = build_conversation(c, user, &row)?;
            Ok((row, conv))
        }
        _ => Err(ChatError::not_found(&canonical)),
    }
}

/// The facts `rules::Membership` needs about `user` in the thread of `id`.
fn membership(c: &Connection, user: &str, id: &ConversationId) -> Result<rules::Membership> {
    let ConversationId::Group(group) = id else {
        return Ok(rules::Membership::c2c());
    };
    let member = cached_row(
        c,
        "SELECT 1 FROM group_members WHERE group_id = ?1 AND user_id = ?2",
        params![group, user],
        |_| Ok(()),
    )
    .optional()
    .map_err(sql_failed)?
    .is_some();
    let mut stmt = c
        .prepare_cached(
            "SELECT left_seq, back_seq FROM group_absences WHERE group_id = ?1 AND user_id = ?2",
        )
        .map_err(sql_failed)?;
    let absences = stmt
        .query_map(params![group, user], |r| {
            Ok(Absence {
                left: r.get::<_, i64>(0)? as u64,
                back: r.get::<_, Option<i64>>(1)?.map(|b| b as u64),
            })
        })
        .map_err(sql_failed)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql_failed)?;
    Ok(rules::Membership { member, absences })
}

fn group_members(c: &Connection, group: &str) -> Result<Vec<String>> {
    let mut stmt = c
        .prepare_cached("SELECT user_id FROM group_members WHERE group_id = ?1 ORDER BY user_id")
        .map_err(sql_failed)?;
    let members = stmt
        .query_map([group], |r| r.get::<_, String>(0))
        .map_err(sql_failed)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql_failed)?;
    Ok(members)
}

fn live_rows(c: &Connection, user: &str, below: u64, limit: usize) -> Result<Vec<ConversationRow>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM user_conversations
             WHERE user_id = ?1 AND live = 1 AND order_key < ?2
             ORDER BY order_key DESC LIMIT ?3"
        ))
        .map_err(sql_failed)?;
    let rows = stmt
        .query_map(
            params![user, to_sql_int(below), to_sql_int(limit as u64)],
            to_row,
        )
        .map_err(sql_failed)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql_failed)?;
    Ok(rows)
}

fn send_in(
    tx: &Transaction,
    feed: &mut Feed,
    user: &str,
    id: &ConversationId,
    text: &str,
    now_ms: u64,
) -> Result<SendReply> {
    let canonical = id.canonical();
    membership(tx, user, id)?.check_send(id)?;
    // (participant, the conversation ID as that participant sees it)
    let participants: Vec<(String, String)> = match id {
        ConversationId::C2c(peer) => vec![
            (user.to_owned(), canonical.clone()),
            (peer.clone(), ConversationId::c2c(user).canonical()),
        ],
        ConversationId::Group(g) => group_members(tx, g)?
            .into_iter()
            .map(|m| (m, canonical.clone()))
            .collect(),
    };
    let thread = rules::thread_key(user, id);
    for (p, _) in &participants {
        ensure_user(tx, p)?;
    }
    exec(
        tx,
        "INSERT OR IGNORE INTO threads (thread_id, last_seq) VALUES (?1, 0)",
        [&thread],
    )
    .map_err(sql_failed)?;
    let seq: i64 = cached_row(
        tx,
        "UPDATE threads SET last_seq = last_seq + 1 WHERE thread_id = ?1 RETURNING last_seq",
        [&thread],
        |r| r.get(0),
    )
    .map_err(sql_failed)?;
    let order_key: i64 = cached_row(
        tx,
        "SELECT COALESCE(MAX(order_key), 0) + 1 FROM messages",
        [],
        |r| r.get(0),
    )
    .map_err(sql_failed)?;
    exec(
        tx,
        "INSERT INTO messages (thread_id, seq, order_key, sender, text, timestamp)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![thread, seq, order_key, user, text, to_sql_int(now_ms)],
    )
    .map_err(sql_failed)?;
    let mut reply = None;
    for (p, conv_id) in participants {
        let unread_inc = i64::from(p != user);
        exec(tx, "INSERT INTO user_conversations (user_id, conversation_id, thread_id, live, unread, order_key)
             VALUES (?1, ?2, ?3, 1, ?4, ?5)
             ON CONFLICT (user_id, conversation_id) DO UPDATE SET
                live = 1, unread = unread + excluded.unread, order_key = excluded.order_key",
            params![p, conv_id, thread, unread_inc, order_key],
        )
        .map_err(sql_failed)?;
        let row = load_row(tx, &p, &conv_id)?.ok_or_else(|| server_error("row vanished"))?;
        let conversation = build_conversation(tx, &p, &row)?;
        let message = load_message(tx, &thread, seq as u64, &conv_id)?
            .ok_or_else(|| server_error("message vanished"))?;
        let change = Change::ConversationUpdated {
            conversation: conversation.clone(),
            message: Some(message.clone()),
        };
        let feed_seq = feed.append(tx, &p, change)?;
        if p == user {
            reply = Some(SendReply {
                message,
                conversation,
                feed_seq,
            });
        }
    }
    reply.ok_or_else(|| server_error("sender is not a participant"))
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn ensure_user(&self, user_id: &str) -> Result<()> {
        let user = user_id.to_owned();
        self.write(move |tx, _| ensure_user(tx, &user)).await
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
            let mut page = ReplyBudget::list_page(count);
            for row in live_rows(c, &user, below, page.rows_to_fetch() as usize)? {
                if !page.has_room() || !page.admit(build_conversation(c, &user, &row)?)? {
                    break;
                }
            }
            Ok(page.into_list_reply())
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
        self.write(move |tx, feed| send_in(tx, feed, &user, &id, &text, now_ms))
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
            let row = load_row(c, &user, &canonical)?;
            let member = membership(c, &user, &id)?;
            member.check_read(&id, row.is_some())?;
            let thread = rules::thread_key(&user, &id);
            let last = last_seq(c, &thread)?;
            let mut page = HistoryPage::new(&member, row.as_ref(), count, before_seq, last);
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages
                     WHERE thread_id = ?1 AND seq >= ?2 AND seq <= ?3
                     ORDER BY seq DESC LIMIT ?4"
                ))
                .map_err(sql_failed)?;
            while let Some((lo, hi, left)) = page.next_range() {
                let rows = stmt
                    .query_map(
                        params![thread, to_sql_int(lo), to_sql_int(hi), left as i64],
                        |r| to_message(r, &canonical),
                    )
                    .map_err(sql_failed)?
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(sql_failed)?;
                page.extend(rows)?;
            }
            Ok(page.into_reply())
        })
        .await
    }

    async fn mark_read(&self, user_id: &str, id: &ConversationId) -> Result<ReadReply> {
        let (user, id) = (user_id.to_owned(), id.clone());
        self.write(move |tx, feed| {
            let (row, _) = live_conversation(tx, &user, &id)?;
            let last = membership(tx, &user, &id)?.newest_visible(last_seq(tx, &row.thread_id)?);
            exec(
                tx,
                "UPDATE user_conversations SET unread = 0, read_seq = ?3
                 WHERE user_id = ?1 AND conversation_id = ?2",
                params![user, row.conversation_id, to_sql_int(last)],
            )
            .map_err(sql_failed)?;
            let (_, conversation) = live_conversation(tx, &user, &id)?;
            let change = Change::ConversationUpdated {
                conversation: conversation.clone(),
                message: None,
            };
            let feed_seq = feed.append(tx, &user, change)?;
            Ok(ReadReply {
                conversation,
                feed_seq,
            })
        })
        .await
    }

    async fn delete_conversations(
        &self,
        user_id: &str,
        ids: &[ConversationId],
        clear_message: bool,
    ) -> Result<Vec<Result<Deleted>>> {
        let (user, ids) = (user_id.to_owned(), ids.to_vec());
        self.write(move |tx, feed| {
            let mut results = Vec::with_capacity(ids.len());
            for id in ids {
                let canonical = id.canonical();
                let row = match load_row(tx, &user, &canonical)? {
                    Some(row) if row.live => row,
                    _ => {
                        results.push(Err(ChatError::not_found(&canonical)));
                        continue;
                    }
                };
                let upto =
                    membership(tx, &user, &id)?.newest_visible(last_seq(tx, &row.thread_id)?);
                exec(
                    tx,
                    "UPDATE user_conversations SET live = 0, upto_seq = ?3, unread = 0,
                        read_seq = ?3, cleared_seq = CASE WHEN ?4 THEN ?3 ELSE cleared_seq END
                     WHERE user_id = ?1 AND conversation_id = ?2",
                    params![user, canonical, to_sql_int(upto), clear_message],
                )
                .map_err(sql_failed)?;
                let change = Change::ConversationDeleted {
                    conversation_id: canonical,
                    clear_message,
                    upto_seq: upto,
                };
                let feed_seq = feed.append(tx, &user, change)?;
                results.push(Ok(Deleted {
                    upto_seq: upto,
                    feed_seq,
                }));
            }
            Ok(results)
        })
        .await
    }

    async fn changes(
        &self,
        user_id: &str,
        since: u64,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ChangesReply> {
        let (user, after) = (user_id.to_owned(), after.unwrap_or("").to_owned());
        self.read(move |c| feed::read(c, &user, since, &after, limit))
            .await
    }

    async fn upsert_group(&self, group_id: &str, name: &str, members: &[String]) -> Result<()> {
        let (group, name, members) = (group_id.to_owned(), name.to_owned(), members.to_vec());
        self.write(move |tx, _| {
            exec(
                tx,
                "INSERT INTO chat_groups (group_id, name) VALUES (?1, ?2)
                 ON CONFLICT (group_id) DO UPDATE SET name = excluded.name",
                params![group, name],
            )
            .map_err(sql_failed)?;
            let (removed, added) = rules::membership_change(&group_members(tx, &group)?, &members);
            let thread = rules::group_thread_key(&group);
            let last = to_sql_int(last_seq(tx, &thread)?);
            for m in &removed {
                exec(
                    tx,
                    "DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2",
                    params![group, m],
                )
                .map_err(sql_failed)?;
                exec(
                    tx,
                    "INSERT OR REPLACE INTO group_absences (group_id, user_id, left_seq, back_seq)
                     VALUES (?1, ?2, ?3, NULL)",
                    params![group, m, last],
                )
                .map_err(sql_failed)?;
            }
            for m in &added {
                ensure_user(tx, m)?;
                exec(
                    tx,
                    "INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?1, ?2)",
                    params![group, m],
                )
                .map_err(sql_failed)?;
                // Back in the group: the open absence ends here (and vanishes if it hid nothing).
                exec(
                    tx,
                    "UPDATE group_absences SET back_seq = ?3
                     WHERE group_id = ?1 AND user_id = ?2 AND back_seq IS NULL",
                    params![group, m, last],
                )
                .map_err(sql_failed)?;
                exec(
                    tx,
                    "DELETE FROM group_absences
                     WHERE group_id = ?1 AND user_id = ?2 AND back_seq = left_seq",
                    params![group, m],
                )
                .map_err(sql_failed)?;
            }
            Ok(())
        })
        .await
    }

    async fn put_ticket(
        &self,
        digest: &str,
        user_id: &str,
        now_ms: u64,
        expires_ms: u64,
        max_live: u32,
    ) -> Result<bool> {
        let (digest, user) = (digest.to_owned(), user_id.to_owned());
        self.write(move |tx, _| {
            let stored = exec(
                tx,
                "INSERT INTO ws_tickets (digest, user_id, expires_ms) SELECT ?1, ?2, ?3 \
                 WHERE (SELECT count(*) FROM ws_tickets WHERE user_id = ?2 AND expires_ms > ?4) < ?5",
                params![
                    digest,
                    user,
                    to_sql_int(expires_ms),
                    to_sql_int(now_ms),
                    i64::from(max_live)
                ],
            )
            .map_err(sql_failed)?;
            Ok(stored == 1)
        })
        .await
    }

    async fn take_ticket(&self, digest: &str) -> Result<Option<(String, u64)>> {
        let digest = digest.to_owned();
        self.write(move |tx, _| {
            cached_row(
                tx,
                "DELETE FROM ws_tickets WHERE digest = ?1 RETURNING user_id, expires_ms",
                params![digest],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64)),
            )
            .optional()
            .map_err(sql_failed)
        })
        .await
    }

    async fn purge_tickets(&self, now_ms: u64) -> Result<()> {
        self.write(move |tx, _| {
            exec(
                tx,
                "DELETE FROM ws_tickets WHERE expires_ms < ?1",
                params![to_sql_int(now_ms)],
            )
            .map_err(sql_failed)?;
            Ok(())
        })
        .await
    }

    async fn close(&self) {
        let conn = self.conn.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let taken = conn.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(c) = taken {
                if let Err((_, e)) = c.close() {
                    tracing::warn!("closing database: {e}");
                }
            }
        })
        .await;
    }
}
