//! `chat-load durability`: users send messages to a chat-server this command starts on a file
//! database (or PostgreSQL); mid-run the server is killed with SIGKILL (no shutdown, no final checkpoint) and
//! restarted on the same file, several rounds. Afterwards, on the last server, every send that
//! was acknowledged (2xx with its message) must be in the sender's history, the acknowledged
//! feed entry must be the sender's entry for that message, and every user's change feed must be
//! gapless up to its cursor. Every loop is bounded (rounds, seconds, 10 s per request).
//!
//! With `--instances N` (PostgreSQL only) N servers share the database and each user sends
//! through one of them; every round one instance is killed while the others keep serving, its
//! users fail over to the next instance, and the killed one is restarted a round later.

use crate::{setup_user, User};
use chat_core::wire::{Change, ChangesReply, HistoryReply, SendReply, SendRequest};
use clap::Args;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct DurabilityArgs {
    /// The chat-server binary to start (and kill) on `--db`.
    #[arg(long)]
    server_bin: PathBuf,
    /// The server's `--db`: a SQLite file (created; reused across the restarts) or a
    /// postgres:// URL (only the server process is killed, not PostgreSQL).
    #[arg(long)]
    db: PathBuf,
    /// Concurrent senders.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(2..=200))]
    users: u64,
    /// Kill rounds: send for `--kill-after` seconds, SIGKILL, restart.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=20))]
    rounds: u64,
    /// Seconds of sending before each kill.
    #[arg(long, default_value_t = 3.0, value_parser = parse_kill_after)]
    kill_after: f64,
    /// Server instances on one PostgreSQL database (`--db postgres://…`); each round kills one
    /// of them while the others keep serving.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=5))]
    instances: u64,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<String>,
}

fn parse_kill_after(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 60.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds in (0, 60]")),
    }
}

/// A running server started by this command; killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(bin: &PathBuf, db: &PathBuf) -> Result<Server, String> {
        static STARTS: AtomicU64 = AtomicU64::new(0);
        let ready = std::env::temp_dir().join(format!(
            "chat-load-durability-{}-{}.ready",
            std::process::id(),
            STARTS.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&ready);
        let child = Command::new(bin)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--dev",
                "--rate-limit",
                "0",
                "--db",
            ])
            .arg(db)
            .arg("--ready-file")
            .arg(&ready)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut server = Server {
            child,
            url: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(url) = std::fs::read_to_string(&ready) {
                if !url.is_empty() {
                    let _ = std::fs::remove_file(&ready);
                    server.url = url.trim().to_owned();
                    return Ok(server);
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("chat-server exited early: {status}"));
            }
            if Instant::now() > deadline {
                return Err("chat-server not ready within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no graceful shutdown, nothing flushed by the server.
    fn kill9(&mut self) -> Result<(), String> {
        self.child.kill().map_err(|e| format!("kill: {e}"))?;
        self.child.wait().map_err(|e| format!("wait: {e}"))?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One acknowledged send.
struct Acked {
    user: usize,
    conversation_id: String,
    msg_id: String,
    feed_seq: u64,
}

#[derive(Default)]
struct RoundStats {
    acked: u64,
    failed: u64,
    failovers: u64,
}

/// The instances' base URLs (a restarted instance gets a new port).
type Urls = Arc<Mutex<Vec<String>>>;

/// Sends until `stop`, recording every 2xx reply. A failed request moves the user to the next
/// instance (with one instance: retries it).
async fn sender(
    http: reqwest::Client,
    urls: Urls,
    me: usize,
    users: Arc<Vec<User>>,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<Acked>>>,
) -> RoundStats {
    let mut stats = RoundStats::default();
    let mut n = 0u64;
    let mut at = me;
    while !stop.load(Ordering::Relaxed) {
        let server = {
            let urls = urls.lock().unwrap();
            urls[at % urls.len()].clone()
        };
        n += 1;
        let mut peer = ((me as u64 * 7919 + n * 104_729) % (users.len() as u64 - 1)) as usize;
        if peer >= me {
            peer += 1;
        }
        let body = SendRequest {
            conversation_id: format!("c2c_{}", users[peer].id),
            text: format!("durability {n} from {}", users[me].id),
        };
        let reply = http
            .post(format!("{server}/v1/messages"))
            .bearer_auth(&users[me].sig)
            .json(&body)
            .send()
            .await;
        let reply = match reply {
            Ok(r) if r.status().is_success() => r.json::<SendReply>().await.ok(),
            _ => None,
        };
        match reply {
            Some(r) => {
                stats.acked += 1;
                acked.lock().unwrap().push(Acked {
                    user: me,
                    conversation_id: body.conversation_id,
                    msg_id: r.message.msg_id,
                    feed_seq: r.feed_seq,
                });
            }
            None => {
                // The server is gone (killed): an unacknowledged send may or may not be stored.
                stats.failed += 1;
                if urls.lock().unwrap().len() > 1 {
                    at += 1;
                    stats.failovers += 1;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    stats
}

/// A GET answered 2xx.
async fn get(http: &reqwest::Client, url: &str, sig: &str) -> Result<reqwest::Response, String> {
    let r = http
        .get(url)
        .bearer_auth(sig)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !r.status().is_success() {
        return Err(format!("{url}: HTTP {}", r.status()));
    }
    Ok(r)
}

/// What the last server holds, checked against the acknowledged sends.
#[derive(Default)]
struct Verdict {
    lost: u64,
    wrong_feed_entry: u64,
    feed_gaps: u64,
    feed_entries: u64,
    first_problem: Option<String>,
}

impl Verdict {
    fn problem(&mut self, p: String) {
        self.first_problem.get_or_insert(p);
    }
}

async fn verify(
    http: &reqwest::Client,
    server: &str,
    users: &[User],
    acked: &[Acked],
) -> Result<Verdict, String> {
    let mut v = Verdict::default();
    // Each user's feed: since=1 pages up to the cursor (since=0 would be a reset page), gapless.
    let mut feeds: Vec<HashMap<u64, String>> = Vec::with_capacity(users.len());
    for u in users {
        let mut entries = HashMap::new();
        let mut since = 1u64;
        let mut expected = 2u64;
        for _ in 0..100_000 {
            let url = format!("{server}/v1/changes?since={since}");
            let page: ChangesReply = get(http, &url, &u.sig)
                .await?
                .json()
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            for env in &page.changes {
                if env.seq != expected {
                    v.feed_gaps += 1;
                    v.problem(format!("{}: feed entry {} after {}", u.id, env.seq, since));
                }
                expected = env.seq + 1;
                v.feed_entries += 1;
                if let Change::ConversationUpdated {
                    message: Some(m), ..
                } = &env.change
                {
                    entries.insert(env.seq, m.msg_id.clone());
                }
            }
            since = page.cursor;
            if !page.has_more {
                break;
            }
        }
        feeds.push(entries);
    }
    // Each acknowledged message in its sender's history and at its acknowledged feed entry.
    let mut wanted: HashMap<(usize, &str), HashSet<&str>> = HashMap::new();
    for a in acked {
        wanted
            .entry((a.user, &a.conversation_id))
            .or_default()
            .insert(&a.msg_id);
        if a.feed_seq > 1 && feeds[a.user].get(&a.feed_seq) != Some(&a.msg_id) {
            v.wrong_feed_entry += 1;
            v.problem(format!(
                "{}: feed entry {} is not message {}",
                users[a.user].id, a.feed_seq, a.msg_id
            ));
        }
    }
    for ((user, conversation), mut missing) in wanted {
        let u = &users[user];
        let mut before = String::new();
        for _ in 0..100_000 {
            let url =
                format!("{server}/v1/messages?conversationID={conversation}&count=100{before}");
            let page: HistoryReply = get(http, &url, &u.sig)
                .await?
                .json()
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            for m in &page.message_list {
                missing.remove(m.msg_id.as_str());
            }
            match page.message_list.last() {
                Some(oldest) if oldest.seq > 1 && !missing.is_empty() => {
                    before = format!("&beforeSeq={}", oldest.seq);
                }
                _ => break,
            }
        }
        if !missing.is_empty() {
            v.lost += missing.len() as u64;
            v.problem(format!(
                "{}: {} acknowledged messages missing in {conversation}",
                u.id,
                missing.len()
            ));
        }
    }
    Ok(v)
}

pub async fn run(a: DurabilityArgs) -> Result<(), String> {
    let shared = a.db.to_str().is_some_and(|d| d.starts_with("postgres://"));
    if a.instances > 1 && !shared {
        return Err(
            "--instances above 1 needs --db postgres://… (instances share the database)".into(),
        );
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let prefix = format!("dur{}", std::process::id());
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let mut servers = Vec::new();
    for _ in 0..a.instances {
        servers.push(Server::start(&a.server_bin, &a.db)?);
    }
    let urls: Urls = Arc::new(Mutex::new(servers.iter().map(|s| s.url.clone()).collect()));
    let mut users = Vec::with_capacity(a.users as usize);
    for i in 0..a.users {
        users.push(setup_user(&http, &servers[0].url, format!("{prefix}_{i:03}")).await?);
    }
    let users = Arc::new(users);
    let mut restart_ms = Vec::new();
    let (mut total_acked, mut total_failed, mut failovers) = (0u64, 0u64, 0u64);
    let spawn_senders = |stop: &Arc<AtomicBool>| -> Vec<_> {
        (0..users.len())
            .map(|me| {
                tokio::spawn(sender(
                    http.clone(),
                    urls.clone(),
                    me,
                    users.clone(),
                    stop.clone(),
                    acked.clone(),
                ))
            })
            .collect()
    };
    let kill_after = Duration::from_secs_f64(a.kill_after);
    if a.instances == 1 {
        for _ in 0..a.rounds {
            let stop = Arc::new(AtomicBool::new(false));
            let tasks = spawn_senders(&stop);
            tokio::time::sleep(kill_after).await;
            // Killed while the senders are mid-request; they stop after their next failure.
            servers[0].kill9()?;
            stop.store(true, Ordering::Relaxed);
            for t in tasks {
                let s = t.await.map_err(|e| e.to_string())?;
                total_acked += s.acked;
                total_failed += s.failed;
            }
            let started = Instant::now();
            servers[0] = Server::start(&a.server_bin, &a.db)?;
            restart_ms.push(started.elapsed().as_secs_f64() * 1000.0);
            urls.lock().unwrap()[0] = servers[0].url.clone();
        }
    } else {
        // The senders never stop: each round one instance dies under them and comes back.
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = spawn_senders(&stop);
        for round in 0..a.rounds as usize {
            let k = round % servers.len();
            tokio::time::sleep(kill_after).await;
            // Its users fail over to the next instance; the restarted one (on a new port) is
            // reached again when failovers wrap around.
            servers[k].kill9()?;
            let started = Instant::now();
            servers[k] = Server::start(&a.server_bin, &a.db)?;
            restart_ms.push(started.elapsed().as_secs_f64() * 1000.0);
            urls.lock().unwrap()[k] = servers[k].url.clone();
        }
        tokio::time::sleep(kill_after).await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let s = t.await.map_err(|e| e.to_string())?;
            total_acked += s.acked;
            total_failed += s.failed;
            failovers += s.failovers;
        }
    }
    let server = &servers[servers.len() - 1];
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let v = verify(&http, &server.url, &users, &acked).await?;
    let ok = v.lost == 0 && v.wrong_feed_entry == 0 && v.feed_gaps == 0;
    let restart_max = restart_ms.iter().copied().fold(0.0, f64::max);
    println!(
        "chat-load durability: {} users, {} instance(s), {} rounds of {:.1} s then kill -9 and restart on {}",
        a.users,
        a.instances,
        a.rounds,
        a.kill_after,
        a.db.display()
    );
    println!(
        "acknowledged sends: {total_acked} (failed or cut by the kills: {total_failed}); \
         lost: {}; acknowledged feed entries wrong: {}; feed gaps: {} in {} entries; \
         restart ≤ {restart_max:.0} ms; failovers to another instance: {failovers} → {}",
        v.lost,
        v.wrong_feed_entry,
        v.feed_gaps,
        v.feed_entries,
        if ok { "OK" } else { "FAILED" }
    );
    if let Some(p) = &v.first_problem {
        println!("first problem: {p}");
    }
    if let Some(path) = &a.json {
        let json = serde_json::json!({
            "users": a.users,
            "instances": a.instances,
            "failovers": failovers,
            "rounds": a.rounds,
            "kill_after_s": a.kill_after,
            "acked": total_acked,
            "failed": total_failed,
            "lost": v.lost,
            "wrong_feed_entry": v.wrong_feed_entry,
            "feed_gaps": v.feed_gaps,
            "feed_entries": v.feed_entries,
            "restart_max_ms": restart_max,
            "ok": ok,
        });
        std::fs::write(path, json.to_string()).map_err(|e| format!("{path}: {e}"))?;
    }
    drop(servers);
    if ok {
        Ok(())
    } else {
        Err("acknowledged sends lost or feed gaps after kill -9".into())
    }
}
