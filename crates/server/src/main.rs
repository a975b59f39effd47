//! `chat-server` binary: parses the CLI, serves until SIGINT/SIGTERM, or prints a userSig.

use chat_server::auth::make_user_sig;
use chat_server::config::{Cli, Command, DEV_SECRET_KEY};
use chat_server::serve;
use clap::Parser;
use std::path::Path;
use std::process::ExitCode;

fn secret_or_default(key: Option<String>) -> String {
    key.unwrap_or_else(|| {
        eprintln!(
            "warning: no --secret-key or CHAT_SECRET_KEY given; using the public development key"
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
            eprintln!("chat-server: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let handle = match serve(config, listener).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("chat-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let url = handle.url();
    println!("chat-server listening on {url}");
    if let Some(path) = &args.ready_file {
        if let Err(e) = write_ready_file(path, &url) {
            eprintln!("chat-server: cannot write {}: {e}", path.display());
        }
    }
    stop_signal().await;
    eprintln!("chat-server: shutting down");
    handle.shutdown().await;
    ExitCode::SUCCESS
}
