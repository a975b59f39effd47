//! PostgreSQL implementation of `Storage`, for several server instances on one database.
//!
//! Concurrency (docs/protocol.md, "PostgreSQL"): transactions run at READ COMMITTED; every write
//! first locks the `users` rows of all users whose feed it appends to, in user-ID order
//! (`lock_users`), so writes touching a user are serialized and cannot deadlock on each other.
//! Feed and thread seqs come from `UPDATE … RETURNING` on locked rows (gapless, unique), message
//! order keys from a sequence. Reads run in a REPEATABLE READ snapshot. Each feed entry sends
//! `NOTIFY chat_feed, '<seq>:<user>'` in its transaction; every instance LISTENs (listen.rs) and
//! pushes the entries of the users it holds sockets for, in commit order.

mod listen;
mod schema;

use crate::error::server_error;
use crate::history_page::HistoryPage;
use crate::reply_budget::ReplyBudget;
use crate::storage::{ChangeSink, Deleted, Storage};
use crate::stored_rows::{
    self, now_ms, to_sql_int, ConversationRow, StoredEntry, MESSAGE_COLUMNS, ROW_COLUMNS,
};
use async_trait::async_trait;
use chat_core::error::{ChatError, Result};
use chat_core::id::ConversationId;
use chat_core::model::{Conversation, Message};
use chat_core::rules::{self, Absence};
use chat_core::wire::{
    Change, ChangeEnvelope, ChangesReply, ConversationListReply, HistoryReply, ReadReply, SendReply,
};
use deadpool_postgres::Transaction;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls};

/// The NOTIFY channel carrying `<seq>:<user>` for every committed feed entry.
pub const FEED_CHANNEL: &str = "chat_feed";

/// How long a request waits for a pooled connection or a new one before answering 9530, well
/// under the SDK's 10 s request timeout.
const POOL_WAIT: Duration = Duration::from_secs(3);

/// A database that stops answering (no error, no reset) fails the request with 9530 after this,
/// before the SDK's own 10 s timeout.
const REQUEST_LIMIT: Duration = Duration::from_secs(8);

/// Attempts of a write that hit a serialization failure or a deadlock.
const WRITE_ATTEMPTS: usize = 5;

/// Whether `db` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// A failure inside a transaction: a rule's answer, or a database error (maybe retryable).
enum Fail {
    Chat(ChatError),
    Db(tokio_postgres::Error),
}

impl From<ChatError> for Fail {
    fn from(e: ChatError) -> Self {
        Fail::Chat(e)
    }
}

impl From<tokio_postgres::Error> for Fail {
    fn from(e: tokio_postgres::Error) -> Self {
        Fail::Db(e)
    }
}

impl From<Fail> for ChatError {
    fn from(f: Fail) -> Self {
        match f {
            Fail::Chat(e) => e,
            Fail::Db(e) => server_error(e),
        }
    }
}

type R<T> = std::result::Result<T, Fail>;

fn retryable(f: &Fail) -> bool {
    matches!(f, Fail::Db(e) if e.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE)
        || e.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED))
}

/// Queries through the connection's statement cache: one round trip instead of two.
trait Cached {
    async fn q(&self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> R<Vec<tokio_postgres::Row>>;
    async fn q_opt(&self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> R<Option<tokio_postgres::Row>>;
    async fn q_one(&self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> R<tokio_postgres::Row>;
    async fn x(&self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> R<u64>;
}

impl Cached for Transaction<'_> {
    async fn q(&self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> R<Vec<tokio_postgres::Row>> {
        let st = self.prepare_cached(sql).await?;
        Ok(self.query(&st, p).await?)
    }
    async fn q_opt(&self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> R<Option<tokio_postgres::Row>> {
        let st = self.prepare_cached(sql).await?;
        Ok(self.query_opt(&st, p).await?)
    }
    async fn q_one(&self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> R<tokio_postgres::Row> {
        let st = self.prepare_cached(sql).await?;
        Ok(self.query_one(&st, p).await?)
    }
    async fn x(&self, sql: &str, p: &[&(dyn ToSql + Sync)]) -> R<u64> {
        let st = self.prepare_cached(sql).await?;
        Ok(self.execute(&st, p).await?)
    }
}

pub struct PgStorage {
    pool: Pool,
    listener: JoinHandle<()>,
    delivered: Arc<listen::Delivered>,
}

/// How long a write waits for its own push before replying anyway.
const PUSH_WAIT: Duration = Duration::from_secs(2);

/// Runs `$body` (using `$tx`, and `$feed` for appending entries) in a transaction of `$level`,
/// commits, and waits until this instance has pushed the entries (as SQLite does before the
/// reply). Retries a write that lost a serialization race or a deadlock. A macro because the
/// body borrows the transaction.
macro_rules! in_tx {
    ($self:ident, $level:expr, $read_only:expr, |$tx:ident, $feed:ident| $body:expr) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result: R<_> = tokio::time::timeout(REQUEST_LIMIT, async {
                let mut client = $self.pool.get().await.map_err(server_error)?;
                let $tx = client
                    .build_transaction()
                    .isolation_level($level)
                    .read_only($read_only)
                    .start()
                    .await?;
                #[allow(unused_mut)]
                let mut $feed = Feed::default();
                let value = $body;
                let pushed = $feed.last.clone().map(|key| $self.delivered.register(key));
                if let Err(e) = $tx.commit().await {
                    $self.delivered.forget(&$feed.last);
                    return Err(e.into());
                }
                // Back to the pool before waiting: holding it, writers could starve the pool
                // while the push they wait for needs a connection to be read.
                drop(client);
                if let Some(pushed) = pushed {
                    // Bounded: a lost listener must not hold the reply (sockets resync then).
                    let _ = tokio::time::timeout(PUSH_WAIT, pushed).await;
                }
                Ok(value)
            })
            .await
            .unwrap_or_else(|_| Err(server_error("database did not answer in time").into()));
            match result {
                Err(f) if retryable(&f) && attempt < WRITE_ATTEMPTS => continue,
                other => break other.map_err(ChatError::from),
            }
        }
    }};
}

macro_rules! write_tx {
    ($self:ident, |$tx:ident, $feed:ident| $body:expr) => {
        in_tx!($self, IsolationLevel::ReadCommitted, false, |$tx, $feed| {
            $body
        })
    };
}

macro_rules! read_tx {
    ($self:ident, |$tx:ident| $body:expr) => {
        in_tx!($self, IsolationLevel::RepeatableRead, true, |$tx, _feed| {
            $body
        })
    };
}

/// The last feed entry a write appended: (user, seq).
#[derive(Default)]
struct Feed {
    last: Option<(String, u64)>,
}

impl PgStorage {
    /// Connects a pool of `pool_size`, migrates the schema, and starts listening for feed
    /// entries (published to `sink`).
    pub async fn open(
        url: &str,
        pool_size: usize,
        sink: Arc<dyn ChangeSink>,
    ) -> std::result::Result<Self, String> {
        let mut pg = tokio_postgres::Config::from_str(url)
            .map_err(|e| format!("bad PostgreSQL URL {url}: {e}"))?;
        pg.connect_timeout(POOL_WAIT);
        let pool = new_pool(&pg, pool_size.max(1))?;
        {
            let mut client = pool
                .get()
                .await
                .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
            schema::migrate(&mut client)
                .await
                .map_err(|e| format!("cannot migrate the PostgreSQL database: {e}"))?;
        }
        // The listener reads notified entries through its own connection, so that pushes never
        // queue behind requests for the shared pool.
        let reader = new_pool(&pg, 1)?;
        let delivered = Arc::new(listen::Delivered::default());
        let listener = listen::start(pg, reader, sink, delivered.clone()).await?;
        Ok(PgStorage {
            pool,
            listener,
            delivered,
        })
    }
}

fn new_pool(pg: &tokio_postgres::Config, size: usize) -> std::result::Result<Pool, String> {
    let manager = Manager::from_config(
        pg.clone(),
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(POOL_WAIT))
        .recycle_timeout(Some(POOL_WAIT))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| format!("cannot create the PostgreSQL pool: {e}"))
}

/// Appends `change` to `user`'s feed (the user row is locked by `lock_users`), notifies the
/// instances, and returns its seq.
async fn append_change(
    tx: &Transaction<'_>,
    feed: &mut Feed,
    user: &str,
    change: Change,
) -> R<u64> {
    let seq: i64 = tx
        .q_one(
            "UPDATE users SET feed_seq = feed_seq + 1 WHERE user_id = $1 RETURNING feed_seq",
            &[&user],
        )
        .await?
        .get(0);
    let env = ChangeEnvelope {
        seq: seq as u64,
        change,
    };
    let e = StoredEntry::new(user, &env)?;
    // One round trip for the entry and its notification.
    tx.x(
        "WITH entry AS (
            INSERT INTO changes (user_id, seq, body, thread_id, last_seq, message_seq)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq
         )
         SELECT pg_notify($7, $8) FROM entry",
        &[
            &user,
            &seq,
            &e.body,
            &e.thread_id,
            &e.last_seq,
            &e.message_seq,
            &FEED_CHANNEL,
            &format!("{seq}:{user}"),
        ],
    )
    .await?;
    feed.last = Some((user.to_owned(), seq as u64));
    Ok(seq as u64)
}

/// Rebuilds a feed entry, loading the messages it references.
async fn load_change(tx: &Transaction<'_>, row: &tokio_postgres::Row) -> R<ChangeEnvelope> {
    let entry = StoredEntry {
        body: row.get("body"),
        thread_id: row.get("thread_id"),
        last_seq: row.get("last_seq"),
        message_seq: row.get("message_seq"),
    }
    .read()?;
    let mut loaded = [None, None];
    for (slot, wanted) in loaded.iter_mut().zip(entry.wanted()) {
        if let Some((thread, seq, conv)) = wanted {
            *slot = load_message(tx, thread, seq, conv).await?;
        }
    }
    Ok(entry.complete(loaded))
}

/// Creates missing accounts, then locks the users' rows in ID order (see the module comment).
async fn lock_users(tx: &Transaction<'_>, users: &[String]) -> R<()> {
    let mut sorted = users.to_vec();
    sorted.sort();
    sorted.dedup();
    tx.x(
        "INSERT INTO users (user_id, created_at)
         SELECT u, $2 FROM unnest($1::text[]) AS u ORDER BY u
         ON CONFLICT (user_id) DO NOTHING",
        &[&sorted, &now_ms()],
    )
    .await?;
    tx.x(
        "SELECT 1 FROM users WHERE user_id = ANY($1) ORDER BY user_id FOR UPDATE",
        &[&sorted],
    )
    .await?;
    Ok(())
}

async fn ensure_user(tx: &Transaction<'_>, user: &str) -> R<()> {
    tx.x(
        "INSERT INTO users (user_id, created_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING",
        &[&user, &now_ms()],
    )
    .await?;
    Ok(())
}

fn to_row(r: &tokio_postgres::Row) -> ConversationRow {
    ConversationRow {
        conversation_id: r.get(0),
        thread_id: r.get(1),
        live: r.get(2),
        cleared_seq: r.get::<_, i64>(3) as u64,
        unread: r.get::<_, i64>(4) as u64,
        order_key: r.get::<_, i64>(5) as u64,
    }
}

async fn load_row(
    tx: &Transaction<'_>,
    user: &str,
    conversation_id: &str,
) -> R<Option<ConversationRow>> {
    let row = tx
        .q_opt(
            &format!(
                "SELECT {ROW_COLUMNS} FROM user_conversations
                 WHERE user_id = $1 AND conversation_id = $2"
            ),
            &[&user, &conversation_id],
        )
        .await?;
    Ok(row.as_ref().map(to_row))
}

async fn last_seq(tx: &Transaction<'_>, thread: &str) -> R<u64> {
    let row = tx
        .q_opt(
            "SELECT last_seq FROM threads WHERE thread_id = $1",
            &[&thread],
        )
        .await?;
    Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
}

fn to_message(r: &tokio_postgres::Row, conversation_id: &str) -> Message {
    stored_rows::message(
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        conversation_id,
    )
}

async fn load_message(
    tx: &Transaction<'_>,
    thread: &str,
    seq: u64,
    conv: &str,
) -> R<Option<Message>> {
    let row = tx
        .q_opt(
            &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE thread_id = $1 AND seq = $2"),
            &[&thread, &to_sql_int(seq)],
        )
        .await?;
    Ok(row.map(|r| to_message(&r, conv)))
}

async fn build_conversation(
    tx: &Transaction<'_>,
    user: &str,
    row: &ConversationRow,
) -> R<Conversation> {
    build_conversation_with(tx, user, row, None).await
}

/// `written`: the message the caller just appended to the thread (its newest, under the
/// thread's row lock), which then needs no reading back.
async fn build_conversation_with(
    tx: &Transaction<'_>,
    user: &str,
    row: &ConversationRow,
    written: Option<&Message>,
) -> R<Conversation> {
    let id = ConversationId::parse(&row.conversation_id)?;
    let newest = match written {
        Some(m) => m.seq,
        None => last_seq(tx, &row.thread_id).await?,
    };
    let last = membership(tx, user, &id).await?.newest_visible(newest);
    let last_message = match (row.shown_last(last), written) {
        (Some(seq), Some(m)) if seq == m.seq => Some(m.clone()),
        (Some(seq), _) => load_message(tx, &row.thread_id, seq, &row.conversation_id).await?,
        (None, _) => None,
    };
    let group_name = match &id {
        ConversationId::C2c(_) => None,
        ConversationId::Group(g) => tx
            .q_opt("SELECT name FROM chat_groups WHERE group_id = $1", &[g])
            .await?
            .map(|r| r.get(0)),
    };
    Ok(row.conversation(&id, last_message, group_name))
}

async fn live_conversation(
    tx: &Transaction<'_>,
    user: &str,
    id: &ConversationId,
) -> R<(ConversationRow, Conversation)> {
    let canonical = id.canonical();
    match load_row(tx, user, &canonical).await? {
        Some(row) if row.live => {
            let conv = build_conversation(tx, user, &row).await?;
            Ok((row, conv))
        }
        _ => Err(ChatError::not_found(&canonical).into()),
    }
}

/// The facts `rules::Membership` needs about `user` in the thread of `id`.
async fn membership(tx: &Transaction<'_>, user: &str, id: &ConversationId) -> R<rules::Membership> {
    let ConversationId::Group(group) = id else {
        return Ok(rules::Membership::c2c());
    };
    let member = tx
        .q_opt(
            "SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2",
            &[group, &user],
        )
        .await?
        .is_some();
    let absences = tx
        .q(
            "SELECT left_seq, back_seq FROM group_absences WHERE group_id = $1 AND user_id = $2",
            &[group, &user],
        )
        .await?
        .iter()
        .map(|r| Absence {
            left: r.get::<_, i64>(0) as u64,
            back: r.get::<_, Option<i64>>(1).map(|b| b as u64),
        })
        .collect();
    Ok(rules::Membership { member, absences })
}

async fn group_members(tx: &Transaction<'_>, group: &str) -> R<Vec<String>> {
    let rows = tx
        .q(
            "SELECT user_id FROM group_members WHERE group_id = $1 ORDER BY user_id",
            &[&group],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

async fn live_rows(
    tx: &Transaction<'_>,
    user: &str,
    below: u64,
    limit: usize,
) -> R<Vec<ConversationRow>> {
    let rows = tx
        .q(
            &format!(
                "SELECT {ROW_COLUMNS} FROM user_conversations
                 WHERE user_id = $1 AND live AND order_key < $2
                 ORDER BY order_key DESC LIMIT $3"
            ),
            &[&user, &to_sql_int(below), &to_sql_int(limit as u64)],
        )
        .await?;
    Ok(rows.iter().map(to_row).collect())
}

async fn send_in(
    tx: &Transaction<'_>,
    feed: &mut Feed,
    user: &str,
    id: &ConversationId,
    text: &str,
    now_ms: u64,
) -> R<SendReply> {
    let canonical = id.canonical();
    if let ConversationId::Group(g) = id {
        // Membership cannot change under a send (upsert_group updates this row).
        tx.x(
            "SELECT 1 FROM chat_groups WHERE group_id = $1 FOR SHARE",
            &[g],
        )
        .await?;
    }
    membership(tx, user, id).await?.check_send(id)?;
    // (participant, the conversation ID as that participant sees it)
    let participants: Vec<(String, String)> = match id {
        ConversationId::C2c(peer) => vec![
            (user.to_owned(), canonical.clone()),
            (peer.clone(), ConversationId::c2c(user).canonical()),
        ],
        ConversationId::Group(g) => group_members(tx, g)
            .await?
            .into_iter()
            .map(|m| (m, canonical.clone()))
            .collect(),
    };
    let users: Vec<String> = participants.iter().map(|(p, _)| p.clone()).collect();
    lock_users(tx, &users).await?;
    let thread = rules::thread_key(user, id);
    // Fewer round trips (each one counts under load): the thread's seq in one upsert, the order
    // key taken by the insert, rows and the message returned instead of read back.
    let seq: i64 = tx
        .q_one(
            "INSERT INTO threads (thread_id, last_seq) VALUES ($1, 1)
             ON CONFLICT (thread_id) DO UPDATE SET last_seq = threads.last_seq + 1
             RETURNING last_seq",
            &[&thread],
        )
        .await?
        .get(0);
    let timestamp = to_sql_int(now_ms);
    let order_key: i64 = tx
        .q_one(
            "INSERT INTO messages (thread_id, seq, order_key, sender, text, timestamp)
             VALUES ($1, $2, nextval('message_order_keys'), $3, $4, $5) RETURNING order_key",
            &[&thread, &seq, &user, &text, &timestamp],
        )
        .await?
        .get(0);
    let mut reply = None;
    for (p, conv_id) in participants {
        let unread_inc = i64::from(p != user);
        let row = tx
            .q_one(
                &format!(
                    "INSERT INTO user_conversations
                        (user_id, conversation_id, thread_id, live, unread, order_key)
                     VALUES ($1, $2, $3, TRUE, $4, $5)
                     ON CONFLICT (user_id, conversation_id) DO UPDATE SET live = TRUE,
                        unread = user_conversations.unread + excluded.unread,
                        order_key = excluded.order_key
                     RETURNING {ROW_COLUMNS}"
                ),
                &[&p, &conv_id, &thread, &unread_inc, &order_key],
            )
            .await?;
        let row = to_row(&row);
        let message = stored_rows::message(
            seq,
            order_key,
            user.to_owned(),
            text.to_owned(),
            timestamp,
            &conv_id,
        );
        let conversation = build_conversation_with(tx, &p, &row, Some(&message)).await?;
        let change = Change::ConversationUpdated {
            conversation: conversation.clone(),
            message: Some(message.clone()),
        };
        let feed_seq = append_change(tx, feed, &p, change).await?;
        if p == user {
            reply = Some(SendReply {
                message,
                conversation,
                feed_seq,
            });
        }
    }
    Ok(reply.ok_or_else(|| server_error("sender is not a participant"))?)
}

/// One page of a reset: live conversations with IDs after `after`, by ID.
async fn reset_page(tx: &Transaction<'_>, user: &str, newest: u64, after: &str) -> R<ChangesReply> {
    let mut page = ReplyBudget::reset_page();
    let rows = tx
        .q(
            &format!(
                "SELECT {ROW_COLUMNS} FROM user_conversations
                 WHERE user_id = $1 AND live AND conversation_id > $2
                 ORDER BY conversation_id LIMIT $3"
            ),
            &[&user, &after, &to_sql_int(page.rows_to_fetch())],
        )
        .await?;
    for row in rows.iter().map(to_row) {
        if !page.has_room() || !page.admit(build_conversation(tx, user, &row).await?)? {
            break;
        }
    }
    Ok(page.into_reset_reply(newest))
}

/// Parameters as `tokio-postgres` wants them.
fn params<'a>(p: &'a [&'a (dyn ToSql + Sync)]) -> &'a [&'a (dyn ToSql + Sync)] {
    p
}

#[async_trait]
impl Storage for PgStorage {
    async fn ensure_user(&self, user_id: &str) -> Result<()> {
        write_tx!(self, |tx, feed| ensure_user(&tx, user_id).await?)
    }

    async fn list_conversations(
        &self,
        user_id: &str,
        next_seq: u64,
        count: usize,
    ) -> Result<ConversationListReply> {
        read_tx!(self, |tx| {
            let below = if next_seq == 0 { u64::MAX } else { next_seq };
            let mut page = ReplyBudget::list_page(count);
            let rows_wanted = page.rows_to_fetch() as usize;
            for r in &live_rows(&tx, user_id, below, rows_wanted).await? {
                if !page.has_room() || !page.admit(build_conversation(&tx, user_id, r).await?)? {
                    break;
                }
            }
            page.into_list_reply()
        })
    }

    async fn get_conversation(&self, user_id: &str, id: &ConversationId) -> Result<Conversation> {
        read_tx!(self, |tx| live_conversation(&tx, user_id, id).await?.1)
    }

    async fn send_text(
        &self,
        user_id: &str,
        id: &ConversationId,
        text: &str,
        now_ms: u64,
    ) -> Result<SendReply> {
        write_tx!(self, |tx, feed| send_in(
            &tx, &mut feed, user_id, id, text, now_ms
        )
        .await?)
    }

    async fn history(
        &self,
        user_id: &str,
        id: &ConversationId,
        count: usize,
        before_seq: Option<u64>,
    ) -> Result<HistoryReply> {
        read_tx!(self, |tx| {
            let canonical = id.canonical();
            let row = load_row(&tx, user_id, &canonical).await?;
            let member = membership(&tx, user_id, id).await?;
            member.check_read(id, row.is_some())?;
            let thread = rules::thread_key(user_id, id);
            let last = last_seq(&tx, &thread).await?;
            let mut page = HistoryPage::new(&member, row.as_ref(), count, before_seq, last);
            while let Some((lo, hi, left)) = page.next_range() {
                let rows = tx
                    .q(
                        &format!(
                            "SELECT {MESSAGE_COLUMNS} FROM messages
                             WHERE thread_id = $1 AND seq >= $2 AND seq <= $3
                             ORDER BY seq DESC LIMIT $4"
                        ),
                        params(&[&thread, &to_sql_int(lo), &to_sql_int(hi), &(left as i64)]),
                    )
                    .await?;
                page.extend(rows.iter().map(|r| to_message(r, &canonical)))?;
            }
            page.into_reply()
        })
    }

    async fn mark_read(&self, user_id: &str, id: &ConversationId) -> Result<ReadReply> {
        write_tx!(self, |tx, feed| {
            lock_users(&tx, &[user_id.to_owned()]).await?;
            let (row, _) = live_conversation(&tx, user_id, id).await?;
            let last = membership(&tx, user_id, id)
                .await?
                .newest_visible(last_seq(&tx, &row.thread_id).await?);
            tx.x(
                "UPDATE user_conversations SET unread = 0, read_seq = $3
                 WHERE user_id = $1 AND conversation_id = $2",
                &[&user_id, &row.conversation_id, &to_sql_int(last)],
            )
            .await?;
            let (_, conversation) = live_conversation(&tx, user_id, id).await?;
            let change = Change::ConversationUpdated {
                conversation: conversation.clone(),
                message: None,
            };
            let feed_seq = append_change(&tx, &mut feed, user_id, change).await?;
            ReadReply {
                conversation,
                feed_seq,
            }
        })
    }

    async fn delete_conversations(
        &self,
        user_id: &str,
        ids: &[ConversationId],
        clear_message: bool,
    ) -> Result<Vec<Result<Deleted>>> {
        write_tx!(self, |tx, feed| {
            lock_users(&tx, &[user_id.to_owned()]).await?;
            let mut results = Vec::with_capacity(ids.len());
            for id in ids {
                let canonical = id.canonical();
                let row = match load_row(&tx, user_id, &canonical).await? {
                    Some(row) if row.live => row,
                    _ => {
                        results.push(Err(ChatError::not_found(&canonical)));
                        continue;
                    }
                };
                let upto = membership(&tx, user_id, id)
                    .await?
                    .newest_visible(last_seq(&tx, &row.thread_id).await?);
                tx.x(
                    "UPDATE user_conversations SET live = FALSE, upto_seq = $3, unread = 0,
                        read_seq = $3, cleared_seq = CASE WHEN $4 THEN $3 ELSE cleared_seq END
                     WHERE user_id = $1 AND conversation_id = $2",
                    &[&user_id, &canonical, &to_sql_int(upto), &clear_message],
                )
                .await?;
                let change = Change::ConversationDeleted {
                    conversation_id: canonical,
                    clear_message,
                    upto_seq: upto,
                };
                let feed_seq = append_change(&tx, &mut feed, user_id, change).await?;
                results.push(Ok(Deleted {
                    upto_seq: upto,
                    feed_seq,
                }));
            }
            results
        })
    }

    async fn changes(
        &self,
        user_id: &str,
        since: u64,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ChangesReply> {
        let after = after.unwrap_or("");
        read_tx!(self, |tx| {
            let newest = tx
                .q_opt("SELECT feed_seq FROM users WHERE user_id = $1", &[&user_id])
                .await?
                .map_or(0, |r| r.get::<_, i64>(0)) as u64;
            if since == 0 || since > newest {
                reset_page(&tx, user_id, newest, after).await?
            } else {
                let mut page = ReplyBudget::feed(limit);
                let rows = tx
                    .q(
                        "SELECT body, thread_id, last_seq, message_seq FROM changes
                         WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                        &[
                            &user_id,
                            &to_sql_int(since),
                            &to_sql_int(page.rows_to_fetch()),
                        ],
                    )
                    .await?;
                for r in &rows {
                    if !page.has_room() || !page.admit(load_change(&tx, r).await?)? {
                        break;
                    }
                }
                page.into_feed_reply(since)
            }
        })
    }

    async fn upsert_group(&self, group_id: &str, name: &str, members: &[String]) -> Result<()> {
        write_tx!(self, |tx, feed| {
            // Locks the group row: sends to the group wait (they take it FOR SHARE).
            tx.x(
                "INSERT INTO chat_groups (group_id, name) VALUES ($1, $2)
                 ON CONFLICT (group_id) DO UPDATE SET name = excluded.name",
                &[&group_id, &name],
            )
            .await?;
            let (removed, added) =
                rules::membership_change(&group_members(&tx, group_id).await?, members);
            let thread = rules::group_thread_key(group_id);
            let last = to_sql_int(last_seq(&tx, &thread).await?);
            for m in &removed {
                tx.x(
                    "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2",
                    &[&group_id, m],
                )
                .await?;
                tx.x(
                    "INSERT INTO group_absences (group_id, user_id, left_seq, back_seq)
                     VALUES ($1, $2, $3, NULL)
                     ON CONFLICT (group_id, user_id, left_seq) DO UPDATE SET back_seq = NULL",
                    &[&group_id, m, &last],
                )
                .await?;
            }
            for m in &added {
                ensure_user(&tx, m).await?;
                tx.x(
                    "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)
                     ON CONFLICT DO NOTHING",
                    &[&group_id, m],
                )
                .await?;
                // Back in the group: the open absence ends here (and vanishes if it hid nothing).
                tx.x(
                    "UPDATE group_absences SET back_seq = $3
                     WHERE group_id = $1 AND user_id = $2 AND back_seq IS NULL",
                    &[&group_id, m, &last],
                )
                .await?;
                tx.x(
                    "DELETE FROM group_absences
                     WHERE group_id = $1 AND user_id = $2 AND back_seq = left_seq",
                    &[&group_id, m],
                )
                .await?;
            }
        })
    }

    async fn put_ticket(
        &self,
        digest: &str,
        user_id: &str,
        now_ms: u64,
        expires_ms: u64,
        max_live: u32,
    ) -> Result<bool> {
        let (expires, now, max) = (
            to_sql_int(expires_ms),
            to_sql_int(now_ms),
            i64::from(max_live),
        );
        // Two instances issuing at once may both pass the count: the cap then overshoots by the
        // number of concurrent issues, which is still bounded.
        write_tx!(self, |tx, feed| {
            tx.x(
                "INSERT INTO ws_tickets (digest, user_id, expires_ms) SELECT $1, $2, $3 \
                 WHERE (SELECT count(*) FROM ws_tickets WHERE user_id = $2 AND expires_ms > $4) < $5",
                &[&digest, &user_id, &expires, &now, &max],
            )
            .await?
                == 1
        })
    }

    async fn take_ticket(&self, digest: &str) -> Result<Option<(String, u64)>> {
        write_tx!(self, |tx, feed| {
            tx.q_opt(
                "DELETE FROM ws_tickets WHERE digest = $1 RETURNING user_id, expires_ms",
                &[&digest],
            )
            .await?
            .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1).max(0) as u64))
        })
    }

    async fn purge_tickets(&self, now_ms: u64) -> Result<()> {
        let now = to_sql_int(now_ms);
        write_tx!(self, |tx, feed| {
            tx.x("DELETE FROM ws_tickets WHERE expires_ms < $1", &[&now])
                .await?;
        })
    }

    async fn close(&self) {
        self.listener.abort();
        self.pool.close();
    }
}
