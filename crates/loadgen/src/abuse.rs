//! `chat-load abuse`: hostile clients against one chat-server, one kind at a time, while two
//! well-behaved users keep sending. For each phase it prints the server's resident memory
//! (sampled every 100 ms from /proc/PID/status) and the well-behaved users' send latency, and
//! whether the server cut the abusive connections. Every phase is bounded in time and size.

use crate::rawws;
use crate::{percentile, setup_user, ws_ticket, User};
use clap::Args;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

#[derive(Args, Debug)]
pub struct AbuseArgs {
    /// Server base URL (run it with --dev --rate-limit 0 on this machine).
    #[arg(long)]
    server: String,
    /// The server's process ID, to read its resident memory.
    #[arg(long)]
    server_pid: u32,
    /// Idle WebSockets (16 per user).
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(16..=10_000))]
    idle: u64,
    /// WebSockets that never read, all in one group receiving `--pushes` 12,000-byte messages.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=16))]
    slow: u64,
    #[arg(long, default_value_t = 1_500, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pushes: u64,
    /// Most pings sent by the flooding client (it stops earlier when cut off).
    #[arg(long, default_value_t = 4_000_000, value_parser = clap::value_parser!(u64).range(1_000..=10_000_000))]
    pings: u64,
    /// Connections that send a request head one byte per second.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=5_000))]
    slowloris: u64,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<String>,
}

/// One phase's figures.
struct Row {
    name: String,
    rss_before: u64,
    rss_peak: u64,
    rss_after: u64,
    p50_ms: f64,
    p99_ms: f64,
    probe_errors: u64,
    outcome: String,
}

fn rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1_048_576.0)
}

/// Two well-behaved users: one sends to the other back to back; latencies in µs.
struct Probe {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    latencies: Arc<Mutex<Vec<u32>>>,
    errors: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Probe {
    fn start(http: &reqwest::Client, server: &str, sender: &User, pid: u32) -> Probe {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss(pid)));
        let latencies = Arc::new(Mutex::new(Vec::new()));
        let errors = Arc::new(AtomicU64::new(0));
        let sampler = {
            let (stop, peak) = (stop.clone(), peak.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(rss(pid), Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        };
        let sender_task = {
            let (stop, latencies, errors) = (stop.clone(), latencies.clone(), errors.clone());
            let (http, url, sig) = (
                http.clone(),
                format!("{server}/v1/messages"),
                sender.sig.clone(),
            );
            tokio::spawn(async move {
                let body =
                    serde_json::json!({"conversationID": "c2c_abuse_probe_b", "text": "probe"});
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let ok = matches!(
                        http.post(&url).bearer_auth(&sig).json(&body).send().await,
                        Ok(r) if r.status().is_success()
                    );
                    if ok {
                        let us = started.elapsed().as_micros().min(u32::MAX as u128) as u32;
                        latencies.lock().unwrap().push(us);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        };
        Probe {
            stop,
            peak,
            latencies,
            errors,
            tasks: vec![sampler, sender_task],
        }
    }

    async fn finish(self, name: &str, rss_before: u64, pid: u32, outcome: String) -> Row {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(15), t).await;
        }
        let mut lat = self.latencies.lock().unwrap().clone();
        lat.sort_unstable();
        let rss_after = rss(pid);
        let row = Row {
            name: name.to_owned(),
            rss_before,
            rss_peak: self.peak.load(Ordering::Relaxed).max(rss_after),
            rss_after,
            p50_ms: percentile(&lat, 50.0),
            p99_ms: percentile(&lat, 99.0),
            probe_errors: self.errors.load(Ordering::Relaxed),
            outcome,
        };
        eprintln!(
            "chat-load abuse: {name}: RSS {} → {} → {} MB, probe p50 {:.2} ms p99 {:.2} ms; {}",
            mb(row.rss_before),
            mb(row.rss_peak),
            mb(row.rss_after),
            row.p50_ms,
            row.p99_ms,
            row.outcome
        );
        row
    }
}

pub async fn run(a: AbuseArgs) -> Result<(), String> {
    let server = a.server.trim_end_matches('/').to_owned();
    let pid = a.server_pid;
    if rss(pid) == 0 {
        return Err(format!("cannot read /proc/{pid}/status"));
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let tag = std::process::id();
    let probe_a = setup_user(&http, &server, "abuse_probe_a".into()).await?;
    setup_user(&http, &server, "abuse_probe_b".into()).await?;
    let mut rows = Vec::new();

    // 0. Baseline.
    let before = rss(pid);
    let probe = Probe::start(&http, &server, &probe_a, pid);
    tokio::time::sleep(Duration::from_secs(3)).await;
    rows.push(
        probe
            .finish("none (baseline, 3 s)", before, pid, "–".into())
            .await,
    );

    // 1. Idle WebSockets.
    let users = a.idle.div_ceil(16);
    let mut tickets = Vec::new();
    for u in 0..users {
        let user = setup_user(&http, &server, format!("abuse{tag}_idle{u}")).await?;
        for _ in 0..16.min(a.idle - u * 16) {
            tickets.push(ws_ticket(&http, &server, &user.sig).await?);
        }
    }
    let before = rss(pid);
    let probe = Probe::start(&http, &server, &probe_a, pid);
    let mut idle = Vec::new();
    for t in &tickets {
        idle.push(rawws::open(&server, t).await?);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let per_socket = rss(pid).saturating_sub(before) / a.idle;
    let outcome = format!(
        "{} sockets open; {:.1} KB of server memory each",
        idle.len(),
        per_socket as f64 / 1024.0
    );
    rows.push(
        probe
            .finish(&format!("{} idle WebSockets", a.idle), before, pid, outcome)
            .await,
    );
    drop(idle);

    // 2. Slow readers in one group, pushed 12,000-byte messages.
    let group = format!("abuse{tag}_slow");
    let pusher = setup_user(&http, &server, format!("abuse{tag}_pusher")).await?;
    let mut members = vec![pusher.id.clone()];
    let mut slow = Vec::new();
    for i in 0..a.slow {
        let user = setup_user(&http, &server, format!("abuse{tag}_slow{i}")).await?;
        members.push(user.id.clone());
        slow.push(rawws::open(&server, &ws_ticket(&http, &server, &user.sig).await?).await?);
    }
    let r = http
        .post(format!("{server}/dev/groups"))
        .json(&serde_json::json!({"groupID": group, "name": "slow readers", "members": members}))
        .send()
        .await
        .map_err(|e| format!("dev/groups: {e}"))?;
    if !r.status().is_success() {
        return Err(format!("dev/groups: HTTP {}", r.status()));
    }
    let before = rss(pid);
    let probe = Probe::start(&http, &server, &probe_a, pid);
    let body =
        serde_json::json!({"conversationID": format!("group_{group}"), "text": "x".repeat(12_000)});
    let started = Instant::now();
    let mut push_errors = 0;
    for _ in 0..a.pushes {
        let ok = matches!(
            http.post(format!("{server}/v1/messages")).bearer_auth(&pusher.sig).json(&body).send().await,
            Ok(r) if r.status().is_success()
        );
        push_errors += u64::from(!ok);
    }
    let pushed_in = started.elapsed();
    // Past the server's 10 s send deadline, a stalled socket must be gone.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let mut cut = 0;
    for s in &mut slow {
        cut += u32::from(rawws::closed_within(s, Duration::from_secs(3)).await);
    }
    let outcome = format!(
        "{} pushes in {:.1} s ({push_errors} failed); {cut}/{} stalled sockets closed by the server",
        a.pushes,
        pushed_in.as_secs_f64(),
        a.slow
    );
    rows.push(
        probe
            .finish(
                &format!(
                    "{} slow readers, {} pushes of 12,000 bytes",
                    a.slow, a.pushes
                ),
                before,
                pid,
                outcome,
            )
            .await,
    );
    drop(slow);

    // 3. Ping flood without reading the pongs.
    let flooder = setup_user(&http, &server, format!("abuse{tag}_flood")).await?;
    let mut ws = rawws::open(&server, &ws_ticket(&http, &server, &flooder.sig).await?).await?;
    let burst = rawws::ping_burst();
    let before = rss(pid);
    let probe = Probe::start(&http, &server, &probe_a, pid);
    let started = Instant::now();
    let mut sent = 0u64;
    let cut = loop {
        if sent >= a.pings || started.elapsed() > Duration::from_secs(60) {
            break false;
        }
        match tokio::time::timeout(Duration::from_secs(5), ws.write_all(&burst)).await {
            Ok(Ok(())) => sent += 1_000,
            Ok(Err(_)) | Err(_) => break true,
        }
    };
    let outcome = if cut {
        format!(
            "cut off after {sent} pings written ({:.0} ms; most sat in kernel buffers)",
            started.elapsed().as_secs_f64() * 1000.0
        )
    } else {
        format!("{sent} pings accepted, never cut off")
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    rows.push(probe.finish("ping flood", before, pid, outcome).await);
    drop(ws);

    // 4. Slowloris: request heads dripped one byte per second.
    let before = rss(pid);
    let probe = Probe::start(&http, &server, &probe_a, pid);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.slowloris {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = rawws::connect(&server).await.ok()?;
            s.write_all(b"GET /v1/info HTTP/1.1\r\nHost: x\r\nX-A: ")
                .await
                .ok()?;
            let opened = Instant::now();
            for _ in 0..40 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if s.write_all(b"a").await.is_err() {
                    return Some(opened.elapsed());
                }
            }
            None
        }));
    }
    let mut closed = Vec::new();
    for t in tasks {
        if let Ok(Some(d)) = t.await {
            closed.push(d.as_millis() as u32 * 1000);
        }
    }
    closed.sort_unstable();
    let outcome = format!(
        "{}/{} cut by the server, after p50 {:.1} s (phase {:.0} s)",
        closed.len(),
        a.slowloris,
        percentile(&closed, 50.0) / 1000.0,
        started.elapsed().as_secs_f64()
    );
    rows.push(
        probe
            .finish(
                &format!("{} slowloris connections", a.slowloris),
                before,
                pid,
                outcome,
            )
            .await,
    );

    print_report(&rows);
    if let Some(path) = &a.json {
        let json: Vec<_> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "abuse": r.name, "rss_before": r.rss_before, "rss_peak": r.rss_peak,
                    "rss_after": r.rss_after, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms,
                    "probe_errors": r.probe_errors, "outcome": r.outcome,
                })
            })
            .collect();
        std::fs::write(path, serde_json::Value::from(json).to_string())
            .map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

fn print_report(rows: &[Row]) {
    println!("chat-load abuse: server RSS (MB) and another user's send latency during each abuse");
    println!();
    println!(
        "| abuse | server RSS before → peak → after (MB) | other user's send p50 / p99 (ms) | outcome |"
    );
    println!("|---|---|---|---|");
    for r in rows {
        let errors = if r.probe_errors > 0 {
            format!(", {} failed", r.probe_errors)
        } else {
            String::new()
        };
        println!(
            "| {} | {} → {} → {} | {:.2} / {:.2}{errors} | {} |",
            r.name,
            mb(r.rss_before),
            mb(r.rss_peak),
            mb(r.rss_after),
            r.p50_ms,
            r.p99_ms,
            r.outcome
        );
    }
}
