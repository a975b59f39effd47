//! `chat-server` binary: parses the CLI, serves until SIGINT/SIGTERM, or prints a userSig.

use chat_server::auth::make_user_sig;
use chat_server::config::{Cli, Command, DEV_SECRET_KEY};
use chat_server::serve;
use clap::Parser;
use std::path::Path;
use std::process::ExitCode;

fn secret_or_default(key: Option<String>) -> String {
    key.unwrap_or_else(|| {
        tracing::warn!(
            "no --secret-key or CHAT_SECRET_KEY given; using the public development key"
        );
        DEV_SECRET_KEY.to_owned()
    })
}

/// Write then rename, so a watcher never reads a half-written file.
fn write_ready_file(path: &Path, url: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, url)?;
    std::fs::rename(&tmp, path)
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main]
async fn main() -> ExitCode {
    // Levels via RUST_LOG (default: info for the server, warnings for the libraries).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,chat_server=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Some(Command::Usersig(args)) = cli.command {
        let key = secret_or_default(args.secret_key);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let sig = make_user_sig(args.sdk_app_id, &key, &args.user, now + args.expire);
        println!("userSig for {}: {sig}", args.user);
        return ExitCode::SUCCESS;
    }
    let args = cli.serve;
    let config = args.to_config(secret_or_default(args.secret_key.clone()));
    let listener = match tokio::net::TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let handle = match serve(config, listener).await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let url = handle.url();
    // Plain stdout, whatever RUST_LOG says: people and scripts look for this line.
    println!("chat-server listening on {url}");
    if let Some(path) = &args.ready_file {
        if let Err(e) = write_ready_file(path, &url) {
            tracing::error!("cannot write {}: {e}", path.display());
        }
    }
    stop_signal().await;
    tracing::info!("shutting down");
    handle.shutdown().await;
    ExitCode::SUCCESS
}
