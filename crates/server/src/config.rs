//! Command line and the server configuration built from it.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_SDK_APP_ID: u64 = 1_400_000_001;
/// Used when neither --secret-key nor CHAT_SECRET_KEY is given; main prints a warning.
pub const DEV_SECRET_KEY: &str = "chat-server-dev-secret-do-not-use-in-production";

#[derive(Parser, Debug)]
#[command(
    name = "chat-server",
    version,
    about = "Reference chat server for the chat SDK"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print a userSig for a user (the last word printed is the userSig).
    Usersig(UserSigArgs),
}

#[derive(Args, Debug)]
pub struct UserSigArgs {
    #[arg(long)]
    pub user: String,
    /// Validity in seconds from now.
    #[arg(long, default_value_t = 86_400 * 7)]
    pub expire: u64,
    #[arg(long, default_value_t = DEFAULT_SDK_APP_ID)]
    pub sdk_app_id: u64,
    #[arg(long, env = "CHAT_SECRET_KEY")]
    pub secret_key: Option<String>,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// SQLite database file, :memory: for a throw-away database, or a PostgreSQL URL
    /// (postgres://user@host:port/dbname) shared by several instances.
    #[arg(long, default_value = "./data/chat.db")]
    pub db: String,
    /// PostgreSQL only: connections in this instance's pool.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub db_pool: u64,
    #[arg(long, default_value_t = DEFAULT_SDK_APP_ID)]
    pub sdk_app_id: u64,
    /// HMAC key for userSigs (default: env CHAT_SECRET_KEY, else a fixed development key).
    #[arg(long, env = "CHAT_SECRET_KEY")]
    pub secret_key: Option<String>,
    /// Push conversation deletions to the user's other connected clients.
    #[arg(long)]
    pub sync_conversation_deletion: bool,
    /// Enable /dev/* routes and localhost CORS.
    #[arg(long)]
    pub dev: bool,
    /// Static files served at /.
    #[arg(long, default_value = "./www")]
    pub www: PathBuf,
    /// The built SDK package served at /pkg/.
    #[arg(long, default_value = "./pkg")]
    pub pkg: PathBuf,
    /// Allowed CORS origin (repeatable).
    #[arg(long = "allow-origin")]
    pub allow_origin: Vec<String>,
    /// Requests per second per user (burst twice that); 0 turns the limit off.
    #[arg(long, default_value_t = 50)]
    pub rate_limit: u32,
    /// After binding, write http://ADDR to this file (atomically).
    #[arg(long)]
    pub ready_file: Option<PathBuf>,
    /// Testing only (needs --dev): bytes a WebSocket's push queue may hold before the socket is
    /// dropped (default 1 MiB), e.g. small so that a burst overflows it.
    #[arg(long, requires = "dev", value_parser = clap::value_parser!(u64).range(1024..=67_108_864))]
    pub dev_ws_queue_bytes: Option<u64>,
}

/// Bounds of the WebSocket push (see crates/server/README.md, "Limits").
#[derive(Clone, Debug)]
pub struct WsLimits {
    /// Bytes of frames queued for one socket; over it the socket is closed (1013).
    pub queue_bytes: usize,
    /// A frame not written within this is a dead or stalled client: the socket is dropped.
    pub send_timeout: Duration,
    /// Open sockets per user; one more is refused (429 / 9506).
    pub per_user: usize,
    /// Frames a client may send per `incoming_window` (it has no reason to send any but pongs
    /// and a close); more closes the socket (1008), so pings cannot pile up pongs.
    pub incoming_per_window: u32,
    pub incoming_window: Duration,
}

impl Default for WsLimits {
    fn default() -> Self {
        WsLimits {
            queue_bytes: 1 << 20,
            send_timeout: Duration::from_secs(10),
            per_user: 16,
            incoming_per_window: 100,
            incoming_window: Duration::from_secs(10),
        }
    }
}

/// Connection timers (see crates/server/README.md, "Limits").
#[derive(Clone, Debug)]
pub struct Timeouts {
    /// Whole request head, and the idle time of a kept-alive connection before its next request.
    pub header: Duration,
    /// Whole request body.
    pub body: Duration,
    /// After SIGTERM, connections still open after this are cut.
    pub shutdown: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header: Duration::from_secs(10),
            body: Duration::from_secs(15),
            shutdown: Duration::from_secs(10),
        }
    }
}

/// Everything `serve` needs; tests build it directly.
#[derive(Clone, Debug)]
pub struct Config {
    pub db: String,
    /// PostgreSQL connections per instance.
    pub db_pool: usize,
    pub sdk_app_id: u64,
    pub secret_key: String,
    pub sync_conversation_deletion: bool,
    pub dev: bool,
    pub www: PathBuf,
    pub pkg: PathBuf,
    pub allow_origins: Vec<String>,
    pub rate_limit: u32,
    pub ws: WsLimits,
    pub timeouts: Timeouts,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            db: ":memory:".into(),
            db_pool: 16,
            sdk_app_id: DEFAULT_SDK_APP_ID,
            secret_key: DEV_SECRET_KEY.into(),
            sync_conversation_deletion: false,
            dev: false,
            www: "./www".into(),
            pkg: "./pkg".into(),
            allow_origins: Vec::new(),
            rate_limit: 50,
            ws: WsLimits::default(),
            timeouts: Timeouts::default(),
        }
    }
}

impl ServeArgs {
    pub fn to_config(&self, secret_key: String) -> Config {
        Config {
            db: self.db.clone(),
            db_pool: self.db_pool as usize,
            sdk_app_id: self.sdk_app_id,
            secret_key,
            sync_conversation_deletion: self.sync_conversation_deletion,
            dev: self.dev,
            www: self.www.clone(),
            pkg: self.pkg.clone(),
            allow_origins: self.allow_origin.clone(),
            rate_limit: self.rate_limit,
            ws: WsLimits {
                queue_bytes: self
                    .dev_ws_queue_bytes
                    .map_or(WsLimits::default().queue_bytes, |n| n as usize),
                ..WsLimits::default()
            },
            timeouts: Timeouts::default(),
        }
    }
}
