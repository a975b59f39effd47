//! Command line and the server configuration built from it.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

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
    /// SQLite database file, or :memory: for a throw-away database.
    #[arg(long, default_value = "./data/chat.db")]
    pub db: String,
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
}

/// Everything `serve` needs; tests build it directly.
#[derive(Clone, Debug)]
pub struct Config {
    pub db: String,
    pub sdk_app_id: u64,
    pub secret_key: String,
    pub sync_conversation_deletion: bool,
    pub dev: bool,
    pub www: PathBuf,
    pub pkg: PathBuf,
    pub allow_origins: Vec<String>,
    pub rate_limit: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            db: ":memory:".into(),
            sdk_app_id: DEFAULT_SDK_APP_ID,
            secret_key: DEV_SECRET_KEY.into(),
            sync_conversation_deletion: false,
            dev: false,
            www: "./www".into(),
            pkg: "./pkg".into(),
            allow_origins: Vec::new(),
            rate_limit: 50,
        }
    }
}

impl ServeArgs {
    pub fn to_config(&self, secret_key: String) -> Config {
        Config {
            db: self.db.clone(),
            sdk_app_id: self.sdk_app_id,
            secret_key,
            sync_conversation_deletion: self.sync_conversation_deletion,
            dev: self.dev,
            www: self.www.clone(),
            pkg: self.pkg.clone(),
            allow_origins: self.allow_origin.clone(),
            rate_limit: self.rate_limit,
        }
    }
}
