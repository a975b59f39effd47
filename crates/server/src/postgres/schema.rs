//! The PostgreSQL schema: versions applied in order, recorded in `schema_version`. Instances
//! starting together migrate one at a time (a transaction-scoped advisory lock).

use deadpool_postgres::Client;

/// Advisory lock key held while migrating ("chatmigr").
const MIGRATION_LOCK: i64 = 0x6368_6174_6d69_6772;

/// Same tables as the SQLite schema (both SQLite versions in one). IDs are compared bytewise
/// (`COLLATE "C"`), as SQLite does, so reset pages order conversations the same way.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    user_id TEXT COLLATE "C" PRIMARY KEY,
    created_at BIGINT NOT NULL,
    feed_seq BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE chat_groups (
    group_id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE group_members (
    group_id TEXT COLLATE "C" NOT NULL REFERENCES chat_groups(group_id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(user_id),
    PRIMARY KEY (group_id, user_id)
);
CREATE TABLE group_absences (
    group_id TEXT COLLATE "C" NOT NULL REFERENCES chat_groups(group_id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(user_id),
    left_seq BIGINT NOT NULL,
    back_seq BIGINT,
    PRIMARY KEY (group_id, user_id, left_seq)
);
CREATE TABLE threads (
    thread_id TEXT COLLATE "C" PRIMARY KEY,
    last_seq BIGINT NOT NULL DEFAULT 0
);
CREATE SEQUENCE message_order_keys;
CREATE TABLE messages (
    thread_id TEXT COLLATE "C" NOT NULL REFERENCES threads(thread_id),
    seq BIGINT NOT NULL,
    order_key BIGINT NOT NULL UNIQUE,
    sender TEXT NOT NULL,
    text TEXT NOT NULL,
    timestamp BIGINT NOT NULL,
    PRIMARY KEY (thread_id, seq)
);
CREATE TABLE user_conversations (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(user_id),
    conversation_id TEXT COLLATE "C" NOT NULL,
    thread_id TEXT COLLATE "C" NOT NULL REFERENCES threads(thread_id),
    live BOOLEAN NOT NULL,
    upto_seq BIGINT NOT NULL DEFAULT 0,
    cleared_seq BIGINT NOT NULL DEFAULT 0,
    unread BIGINT NOT NULL DEFAULT 0,
    read_seq BIGINT NOT NULL DEFAULT 0,
    order_key BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conversation_id)
);
CREATE INDEX user_conversations_by_order ON user_conversations(user_id, live, order_key);
CREATE TABLE changes (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(user_id),
    seq BIGINT NOT NULL,
    body TEXT NOT NULL,
    thread_id TEXT COLLATE "C",
    last_seq BIGINT,
    message_seq BIGINT,
    PRIMARY KEY (user_id, seq)
);
"#,
    // WebSocket tickets shared by the instances (see auth::Tickets). UNLOGGED: a crash may lose
    // tickets that live 30 s anyway, and issuing one then writes no WAL.
    r#"
CREATE UNLOGGED TABLE ws_tickets (
    digest TEXT COLLATE "C" PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX ws_tickets_by_expiry ON ws_tickets(expires_ms);
CREATE INDEX ws_tickets_by_user ON ws_tickets(user_id, expires_ms);
"#,
];

pub async fn migrate(client: &mut Client) -> Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .await?;
    let done: i64 = tx
        .query_one("SELECT COUNT(*) FROM schema_version", &[])
        .await?
        .get(0);
    for (n, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&(n as i32 + 1)],
        )
        .await?;
    }
    tx.commit().await
}
