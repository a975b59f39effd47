//! Pushes across instances: one dedicated connection per instance LISTENs on `chat_feed`.
//! PostgreSQL delivers notifications in commit order, and a user's feed entries commit in seq
//! order (its row is locked), so reading each notified entry and publishing it keeps every
//! socket's feed in order, once, without gaps. Only users with sockets here are read. If the
//! connection drops, notifications may have been missed: every socket is closed
//! (`ChangeSink::resync_all`), so clients catch up from the feed, and the listener reconnects.

use super::{FEED_CHANNEL, R};
use crate::storage::ChangeSink;
use crate::stored_rows::{self, StoredEntry, MESSAGE_COLUMNS};
use chat_core::model::Message;
use chat_core::wire::ChangeEnvelope;
use deadpool_postgres::Pool;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Client, Config, NoTls, Notification};

/// Notifications read ahead of delivery; when full, the connection is not polled (PostgreSQL
/// keeps the rest in its own queue).
const BACKLOG: usize = 4096;
/// Entries loaded per query.
const BATCH: usize = 256;
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// Writers waiting until their last entry has been pushed here, by (user, seq).
#[derive(Default)]
pub struct Delivered(Mutex<HashMap<(String, u64), oneshot::Sender<()>>>);

impl Delivered {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, u64), oneshot::Sender<()>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Call before COMMIT; resolves once the entry's notification has been handled.
    pub fn register(&self, key: (String, u64)) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.lock().insert(key, tx);
        rx
    }

    pub fn forget(&self, key: &Option<(String, u64)>) {
        if let Some(key) = key {
            self.lock().remove(key);
        }
    }

    fn done(&self, batch: &[(String, u64)]) {
        let mut waiting = self.lock();
        if waiting.is_empty() {
            return;
        }
        for key in batch {
            if let Some(w) = waiting.remove(key) {
                let _ = w.send(());
            }
        }
    }
}

struct Listening {
    // Kept alive: dropping the client ends the connection.
    _client: Client,
    rx: mpsc::Receiver<Notification>,
    _task: AbortOnDrop,
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn connect(pg: &Config) -> Result<Listening, tokio_postgres::Error> {
    let (client, mut connection) = pg.connect(NoTls).await?;
    let (tx, rx) = mpsc::channel(BACKLOG);
    let task = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if tx.send(n).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("PostgreSQL listening connection failed: {e}");
                    return;
                }
            }
        }
    });
    let task = AbortOnDrop(task);
    client
        .batch_execute(&format!("LISTEN {FEED_CHANNEL}"))
        .await?;
    Ok(Listening {
        _client: client,
        rx,
        _task: task,
    })
}

/// Connects and LISTENs (failing if it cannot), then delivers in a background task.
pub async fn start(
    pg: Config,
    pool: Pool,
    sink: Arc<dyn ChangeSink>,
    delivered: Arc<Delivered>,
) -> Result<JoinHandle<()>, String> {
    let first = connect(&pg)
        .await
        .map_err(|e| format!("cannot LISTEN on PostgreSQL: {e}"))?;
    Ok(tokio::spawn(run(pg, pool, sink, delivered, first)))
}

async fn run(
    pg: Config,
    pool: Pool,
    sink: Arc<dyn ChangeSink>,
    delivered: Arc<Delivered>,
    mut listening: Listening,
) {
    loop {
        while let Some(first) = listening.rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match listening.rx.try_recv() {
                    Ok(n) => batch.push(n),
                    Err(_) => break,
                }
            }
            let keys: Vec<(String, u64)> = batch.iter().filter_map(parse).collect();
            if let Err(e) = deliver(&pool, &*sink, &keys).await {
                tracing::warn!(
                    "cannot read notified feed entries: {}; closing sockets",
                    chat_core::error::ChatError::from(e)
                );
                sink.resync_all();
            }
            delivered.done(&keys);
        }
        // Lost: whatever was notified meanwhile is not coming; clients resync from the feed.
        sink.resync_all();
        listening = loop {
            tokio::time::sleep(RECONNECT_DELAY).await;
            match connect(&pg).await {
                Ok(l) => break l,
                Err(e) => tracing::warn!("cannot LISTEN on PostgreSQL yet: {e}"),
            }
        };
        // Sockets opened while not listening may have missed entries too.
        sink.resync_all();
    }
}

/// `<seq>:<user>` (user IDs may contain ':').
fn parse(n: &Notification) -> Option<(String, u64)> {
    let (seq, user) = n.payload().split_once(':')?;
    Some((user.to_owned(), seq.parse().ok()?))
}

/// Reads the notified entries of users with sockets here and publishes them in order.
async fn deliver(pool: &Pool, sink: &dyn ChangeSink, batch: &[(String, u64)]) -> R<()> {
    let mut users = Vec::new();
    let mut seqs = Vec::new();
    for (user, seq) in batch {
        if sink.wants(user) {
            users.push(user.clone());
            seqs.push(*seq as i64);
        }
    }
    if users.is_empty() {
        return Ok(());
    }
    // One statement (one snapshot, one round trip) reads the entries and the messages they
    // reference: this connection is the push path of the whole instance.
    let client = pool.get().await.map_err(crate::error::server_error)?;
    let statement = client
        .prepare_cached(&format!(
            "SELECT c.user_id, c.body, c.thread_id, c.last_seq, c.message_seq, {last}, {new}
                 FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS n(user_id, seq, i)
                 JOIN changes c ON c.user_id = n.user_id AND c.seq = n.seq
                 LEFT JOIN messages l ON l.thread_id = c.thread_id AND l.seq = c.last_seq
                 LEFT JOIN messages m ON m.thread_id = c.thread_id AND m.seq = c.message_seq
                 ORDER BY n.i",
            last = prefixed("l"),
            new = prefixed("m"),
        ))
        .await?;
    let rows = client.query(&statement, &[&users, &seqs]).await?;
    if rows.len() != users.len() {
        return Err(crate::error::server_error("a notified feed entry is missing").into());
    }
    // Each user's entries go to the sink as one batch, in feed order.
    let mut by_user: Vec<(String, Vec<ChangeEnvelope>)> = Vec::new();
    let mut slot: HashMap<String, usize> = HashMap::new();
    for row in &rows {
        let entry = StoredEntry {
            body: row.get(1),
            thread_id: row.get(2),
            last_seq: row.get(3),
            message_seq: row.get(4),
        }
        .read()?;
        let [last, new] = entry
            .wanted()
            .map(|w| w.map(|(_, _, conv)| conv.to_owned()));
        let loaded = [joined(row, 5, last), joined(row, 10, new)];
        let user: String = row.get(0);
        let change = entry.complete(loaded);
        let at = *slot.entry(user.clone()).or_insert_with(|| {
            by_user.push((user, Vec::new()));
            by_user.len() - 1
        });
        by_user[at].1.push(change);
    }
    for (user, changes) in &by_user {
        sink.publish(user, changes);
    }
    Ok(())
}

/// `MESSAGE_COLUMNS` of the table aliased `alias`.
fn prefixed(alias: &str) -> String {
    MESSAGE_COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The message joined at column `at` (`MESSAGE_COLUMNS` order), if wanted and found.
fn joined(row: &tokio_postgres::Row, at: usize, conversation: Option<String>) -> Option<Message> {
    let conversation = conversation?;
    let seq: Option<i64> = row.get(at);
    Some(stored_rows::message(
        seq?,
        row.get(at + 1),
        row.get(at + 2),
        row.get(at + 3),
        row.get(at + 4),
        &conversation,
    ))
}
