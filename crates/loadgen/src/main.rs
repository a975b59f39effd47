//! `chat-load`: a load generator for chat-server (loopback benchmarking).
//!
//! N users (default 50) each log in, keep one WebSocket open, and for a fixed time send text
//! messages to random other users and now and then delete a conversation (`clearMessage` random).
//! Afterwards it reports requests per second and latency percentiles, and checks delivery: every
//! user's pushed envelope seqs must be exactly 1..=N, where N is the user's feed cursor from
//! `GET /v1/changes?since=0` (nothing lost, nothing doubled, in order). The server must run with
//! `--dev --rate-limit 0` (and `--sync-conversation-deletion` so deletions are pushed too).
//!
//! `--server` given several times (instances on one PostgreSQL database): user i sends its HTTP
//! requests to server i mod n and gets its WebSocket ticket there, but opens the WebSocket on
//! server i+1 mod n, so every push crosses instances and every ticket is redeemed elsewhere.
//!
//! ```text
//! chat-load --server http://127.0.0.1:PORT [--server URL2 ...] [--users 50] [--seconds 10]
//!           [--delete-every 5]
//!           [--prefix load] [--json FILE]        (--seconds at most 600)
//! chat-load abuse --server URL --server-pid PID [...]   (see `chat-load abuse --help`)
//! chat-load durability --server-bin PATH --db FILE [...] (kill -9 mid-run; see --help)
//! ```
//!
//! Every loop is bounded: the load phase by `--seconds`, the drain phase by 15 s, every HTTP
//! request by a 10 s timeout.

mod abuse;
mod durability;
mod rawws;

use chat_core::wire::{
    ChangeEnvelope, ChangesReply, DeleteReply, DeleteRequest, LoginRequest, SendReply, SendRequest,
    UserSigReply,
};
use clap::{Args, Parser, Subcommand};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const SDK_APP_ID: u64 = 1_400_000_001;
const DRAIN_LIMIT: Duration = Duration::from_secs(15);

/// Command line: the load run (no subcommand) or `abuse`.
#[derive(Parser, Debug)]
#[command(
    name = "chat-load",
    about = "Load generator for chat-server (loopback benchmarking)",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    load: Options,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Hostile clients against one server: idle sockets, slow readers, a ping flood, slowloris.
    Abuse(abuse::AbuseArgs),
    /// Sends while the server (started here on a file DB) is killed with SIGKILL and restarted;
    /// then every acknowledged send must be stored and every feed gapless.
    Durability(durability::DurabilityArgs),
}

#[derive(Args, Debug)]
struct Options {
    /// Server base URL, e.g. http://127.0.0.1:8080 (run with --dev --rate-limit 0); repeat it
    /// for instances sharing one database (each user's WebSocket is then on another instance).
    #[arg(long, required = true, value_parser = parse_server)]
    server: Vec<String>,
    /// Concurrent users.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(2..=1000))]
    users: u64,
    /// Length of the load phase (at most 600).
    #[arg(long, default_value_t = 10.0, value_parser = parse_seconds)]
    seconds: f64,
    /// One delete every N requests (0 = none).
    #[arg(long, default_value_t = 5)]
    delete_every: u64,
    /// User ID prefix (default: load<pid>).
    #[arg(long)]
    prefix: Option<String>,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<String>,
}

fn parse_server(s: &str) -> Result<String, String> {
    if s.starts_with("http://") {
        Ok(s.trim_end_matches('/').to_owned())
    } else {
        Err(format!("{s:?} is not an http:// URL"))
    }
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 600.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds in (0, 600]")),
    }
}

/// xorshift64*: enough randomness for picking peers, no extra crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[derive(Default)]
struct Stats {
    /// Microseconds per request, by kind.
    send_us: Vec<u32>,
    delete_us: Vec<u32>,
    /// Delete items answered 2500 (the conversation was already gone): expected under load.
    delete_not_found: u64,
    deleted: u64,
    errors: u64,
    first_error: Option<String>,
}

pub(crate) struct User {
    pub id: String,
    pub sig: String,
}

type Received = Arc<Mutex<Vec<u64>>>;

pub(crate) fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

/// A single-use WebSocket ticket (`POST /v1/ws-ticket`).
pub(crate) async fn ws_ticket(
    http: &reqwest::Client,
    server: &str,
    sig: &str,
) -> Result<String, String> {
    let r = http
        .post(format!("{server}/v1/ws-ticket"))
        .bearer_auth(sig)
        .send()
        .await
        .map_err(|e| format!("ws-ticket: {e}"))?;
    if !r.status().is_success() {
        return Err(format!("ws-ticket: HTTP {}", r.status()));
    }
    let body: serde_json::Value = r.json().await.map_err(|e| format!("ws-ticket: {e}"))?;
    body["ticket"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "ws-ticket: no ticket in the reply".to_owned())
}

pub(crate) async fn setup_user(
    http: &reqwest::Client,
    server: &str,
    id: String,
) -> Result<User, String> {
    let r = http
        .get(format!("{server}/dev/usersig?userID={id}"))
        .send()
        .await
        .map_err(|e| format!("usersig {id}: {e}"))?;
    if !r.status().is_success() {
        return Err(format!(
            "usersig {id}: HTTP {} (is the server in --dev?)",
            r.status()
        ));
    }
    let sig = r
        .json::<UserSigReply>()
        .await
        .map_err(|e| format!("usersig {id}: {e}"))?
        .user_sig;
    let r = http
        .post(format!("{server}/v1/login"))
        .bearer_auth(&sig)
        .json(&LoginRequest {
            sdk_app_id: SDK_APP_ID,
            user_id: id.clone(),
        })
        .send()
        .await
        .map_err(|e| format!("login {id}: {e}"))?;
    if !r.status().is_success() {
        return Err(format!("login {id}: HTTP {}", r.status()));
    }
    Ok(User { id, sig })
}

/// Connects the user's WebSocket (the server subscribes before answering 101, so every change
/// committed afterwards is pushed) and collects the pushed seqs until `stop`.
async fn open_socket(
    http: &reqwest::Client,
    (server, ws_server): (&str, &str),
    user: &User,
    stop: Arc<AtomicBool>,
) -> Result<(Received, tokio::task::JoinHandle<()>), String> {
    let ticket = ws_ticket(http, server, &user.sig).await?;
    let ws_url = format!(
        "ws://{}/v1/ws?ticket={ticket}",
        ws_server.trim_start_matches("http://")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url)
        .await
        .map_err(|e| format!("websocket {}: {e}", user.id))?;
    let received: Received = Arc::default();
    let sink = received.clone();
    let task = tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            match tokio::time::timeout(Duration::from_millis(200), ws.next()).await {
                Err(_) => continue, // re-check `stop`
                Ok(Some(Ok(WsMessage::Text(text)))) => {
                    let seq = serde_json::from_str::<ChangeEnvelope>(text.as_str())
                        .map(|e| e.seq)
                        .unwrap_or(0); // 0 is never a valid seq: reported as unexpected
                    sink.lock().unwrap().push(seq);
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_))) | Ok(None) => break,
            }
        }
        let _ = ws.close(None).await;
    });
    Ok((received, task))
}

async fn run_user(
    http: reqwest::Client,
    server: Arc<str>,
    me: usize,
    users: Arc<Vec<User>>,
    deadline: Instant,
    delete_every: u64,
) -> Stats {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((me as u64 + 1) * 0x1000_0001));
    let mut stats = Stats::default();
    let sig = &users[me].sig;
    let mut n: u64 = 0;
    while Instant::now() < deadline {
        n += 1;
        let mut peer = (rng.next() % (users.len() as u64 - 1)) as usize;
        if peer >= me {
            peer += 1;
        }
        let conversation_id = format!("c2c_{}", users[peer].id);
        let started = Instant::now();
        let delete = n.checked_rem(delete_every) == Some(0);
        let outcome: Result<(), String> = if delete {
            let body = DeleteRequest {
                conversation_id_list: vec![conversation_id],
                clear_message: rng.next() & 1 == 0,
            };
            match http
                .post(format!("{server}/v1/conversations/delete"))
                .bearer_auth(sig)
                .json(&body)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => match r.json::<DeleteReply>().await {
                    Ok(reply) => {
                        for item in reply.results {
                            match item.result.result_code {
                                0 => stats.deleted += 1,
                                2500 => stats.delete_not_found += 1,
                                c => return_err(&mut stats, format!("delete item code {c}")),
                            }
                        }
                        Ok(())
                    }
                    Err(e) => Err(format!("delete reply: {e}")),
                },
                Ok(r) => Err(format!("delete: HTTP {}", r.status())),
                Err(e) => Err(format!("delete: {e}")),
            }
        } else {
            let body = SendRequest {
                conversation_id,
                text: format!("load message {n} from {}", users[me].id),
            };
            match http
                .post(format!("{server}/v1/messages"))
                .bearer_auth(sig)
                .json(&body)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => r
                    .json::<SendReply>()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("send reply: {e}")),
                Ok(r) => Err(format!("send: HTTP {}", r.status())),
                Err(e) => Err(format!("send: {e}")),
            }
        };
        let us = started.elapsed().as_micros().min(u32::MAX as u128) as u32;
        match outcome {
            Ok(()) if delete => stats.delete_us.push(us),
            Ok(()) => stats.send_us.push(us),
            Err(e) => return_err(&mut stats, e),
        }
    }
    stats
}

fn return_err(stats: &mut Stats, e: String) {
    stats.errors += 1;
    stats.first_error.get_or_insert(e);
}

async fn feed_cursor(http: &reqwest::Client, server: &str, user: &User) -> Result<u64, String> {
    let r = http
        .get(format!("{server}/v1/changes?since=0"))
        .bearer_auth(&user.sig)
        .send()
        .await
        .map_err(|e| format!("changes {}: {e}", user.id))?;
    if !r.status().is_success() {
        return Err(format!("changes {}: HTTP {}", user.id, r.status()));
    }
    Ok(r.json::<ChangesReply>()
        .await
        .map_err(|e| format!("changes {}: {e}", user.id))?
        .cursor)
}

#[derive(Default)]
struct Delivery {
    users_exact: usize,
    events: u64,
    lost: u64,
    doubled: u64,
    out_of_order: usize,
    unexpected: u64,
}

/// Compares what a user received with 1..=cursor.
fn check(received: &[u64], cursor: u64, d: &mut Delivery) {
    let mut seen: HashMap<u64, u32> = HashMap::with_capacity(received.len());
    for &s in received {
        *seen.entry(s).or_default() += 1;
    }
    let lost = (1..=cursor).filter(|s| !seen.contains_key(s)).count() as u64;
    let doubled: u64 = seen.values().map(|&c| u64::from(c.saturating_sub(1))).sum();
    let unexpected = seen.keys().filter(|&&s| s == 0 || s > cursor).count() as u64;
    let in_order = received.windows(2).all(|w| w[0] < w[1]);
    d.events += received.len() as u64;
    d.lost += lost;
    d.doubled += doubled;
    d.unexpected += unexpected;
    if !in_order {
        d.out_of_order += 1;
    }
    if lost == 0 && doubled == 0 && unexpected == 0 && in_order {
        d.users_exact += 1;
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Abuse(args)) => abuse::run(args).await,
        Some(Command::Durability(args)) => durability::run(args).await,
        None => run(cli.load).await,
    };
    if let Err(e) = result {
        eprintln!("chat-load: {e}");
        std::process::exit(1);
    }
}

async fn run(o: Options) -> Result<(), String> {
    let users_n = o.users as usize;
    let delete_every = if o.delete_every == 0 {
        u64::MAX
    } else {
        o.delete_every
    };
    let prefix = o
        .prefix
        .clone()
        .unwrap_or_else(|| format!("load{}", std::process::id()));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(users_n * 2)
        .build()
        .map_err(|e| e.to_string())?;
    // User i: HTTP (and its ticket) on server i mod n, WebSocket on the next one.
    let servers: Vec<Arc<str>> = o.server.iter().map(|s| Arc::from(s.as_str())).collect();
    let http_server = |i: usize| servers[i % servers.len()].clone();
    let ws_server = |i: usize| servers[(i + 1) % servers.len()].clone();

    // Users, logged in, each with one WebSocket.
    let mut users = Vec::with_capacity(users_n);
    for i in 0..users_n {
        users.push(setup_user(&http, &http_server(i), format!("{prefix}_{i:03}")).await?);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut sockets = Vec::with_capacity(users_n);
    for (i, u) in users.iter().enumerate() {
        let pair = (&*http_server(i), &*ws_server(i));
        sockets.push(open_socket(&http, pair, u, stop.clone()).await?);
    }
    let users = Arc::new(users);

    // Load phase.
    let duration = Duration::from_secs_f64(o.seconds);
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..users_n)
        .map(|me| {
            tokio::spawn(run_user(
                http.clone(),
                http_server(me),
                me,
                users.clone(),
                deadline,
                delete_every,
            ))
        })
        .collect();
    let mut all = Stats::default();
    for t in tasks {
        let s = t.await.map_err(|e| e.to_string())?;
        all.send_us.extend(s.send_us);
        all.delete_us.extend(s.delete_us);
        all.delete_not_found += s.delete_not_found;
        all.deleted += s.deleted;
        all.errors += s.errors;
        if all.first_error.is_none() {
            all.first_error = s.first_error;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();

    // Drain: wait (bounded) until every user has received up to its feed cursor.
    let mut cursors = Vec::with_capacity(users.len());
    for (i, u) in users.iter().enumerate() {
        cursors.push(feed_cursor(&http, &http_server(i), u).await?);
    }
    let drain_started = Instant::now();
    loop {
        let behind = sockets
            .iter()
            .zip(&cursors)
            .filter(|((r, _), &c)| (r.lock().unwrap().len() as u64) < c)
            .count();
        if behind == 0 || drain_started.elapsed() > DRAIN_LIMIT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A little longer, so that doubled deliveries (if any) would show up too.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let mut delivery = Delivery::default();
    for ((received, task), &cursor) in sockets.into_iter().zip(&cursors) {
        let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
        check(&received.lock().unwrap(), cursor, &mut delivery);
    }

    // Report.
    all.send_us.sort_unstable();
    all.delete_us.sort_unstable();
    let mut every: Vec<u32> = all.send_us.iter().chain(&all.delete_us).copied().collect();
    every.sort_unstable();
    let requests = every.len() as u64;
    let rps = requests as f64 / elapsed;
    let row = |name: &str, v: &[u32]| {
        format!(
            "| {name} | {} | {:.0} | {:.2} | {:.2} | {:.2} |",
            v.len(),
            v.len() as f64 / elapsed,
            percentile(v, 50.0),
            percentile(v, 99.0),
            v.last().map_or(f64::NAN, |&m| m as f64 / 1000.0),
        )
    };
    println!(
        "chat-load: {} users, {:.1} s, one delete every {} requests, {} server instance(s){}",
        o.users,
        elapsed,
        o.delete_every,
        servers.len(),
        if servers.len() > 1 {
            " (each user's WebSocket on another instance than its requests)"
        } else {
            ""
        }
    );
    println!();
    println!("| requests | count | per second | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!("{}", row("send (POST /v1/messages)", &all.send_us));
    println!(
        "{}",
        row("delete (POST /v1/conversations/delete)", &all.delete_us)
    );
    println!("{}", row("**all**", &every));
    println!();
    println!(
        "errors: {}{}; deletions: {} deleted, {} already gone (2500)",
        all.errors,
        all.first_error
            .as_deref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default(),
        all.deleted,
        all.delete_not_found
    );
    let exact = delivery.users_exact == users_n;
    println!(
        "push delivery: {}/{} users received exactly 1..=cursor ({} events; lost {}, doubled {}, \
         unexpected {}, users out of order {}) → {}",
        delivery.users_exact,
        o.users,
        delivery.events,
        delivery.lost,
        delivery.doubled,
        delivery.unexpected,
        delivery.out_of_order,
        if exact { "OK" } else { "FAILED" }
    );
    if let Some(path) = &o.json {
        let json = serde_json::json!({
            "users": o.users,
            "instances": servers.len(),
            "seconds": elapsed,
            "requests": requests,
            "rps": rps,
            "p50_ms": percentile(&every, 50.0),
            "p99_ms": percentile(&every, 99.0),
            "send": { "count": all.send_us.len(), "p50_ms": percentile(&all.send_us, 50.0), "p99_ms": percentile(&all.send_us, 99.0) },
            "delete": { "count": all.delete_us.len(), "p50_ms": percentile(&all.delete_us, 50.0), "p99_ms": percentile(&all.delete_us, 99.0) },
            "errors": all.errors,
            "first_error": all.first_error,
            "deleted": all.deleted,
            "delete_not_found": all.delete_not_found,
            "delivery": {
                "exact": exact,
                "users_exact": delivery.users_exact,
                "events": delivery.events,
                "lost": delivery.lost,
                "doubled": delivery.doubled,
                "unexpected": delivery.unexpected,
                "out_of_order_users": delivery.out_of_order,
            },
        });
        std::fs::write(path, json.to_string()).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}
