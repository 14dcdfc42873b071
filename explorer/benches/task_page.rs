//! The task page of a task with 1,000 submissions per round and 20 validators (the fixture's
//! seeded task: three rounds, the third in its commit phase, the first two finalized): time to
//! first byte and to the full page over HTTP, and the contract queries it costs, with each query
//! answered after a fixed delay standing in for a node (`ARENA_BENCH_QUERY_MS`, default 0 and 2).
//! Writes `target/bench/explorer_task_page.json`.

use std::time::{Duration, Instant};

use arena_explorer::fixture::{competition, FakeSource};
use arena_explorer::server::router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TRAINERS: u32 = 1_000;
const VALIDATORS: u32 = 20;
const RUNS: usize = 10;

/// Time to the first byte of the answer and to its end, and the body.
async fn get(address: &str, path: &str) -> (Duration, Duration, String) {
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).await.unwrap();
    let ttfb = started.elapsed();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    (ttfb, started.elapsed(), String::from_utf8_lossy(&rest).to_string())
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let delays: Vec<u64> = match std::env::var("ARENA_BENCH_QUERY_MS") {
        Ok(v) => v.split(',').filter_map(|d| d.trim().parse().ok()).collect(),
        Err(_) => vec![0, 2],
    };
    // Round 3's commit phase: rounds are 170 blocks from height 100, its commit phase opens at 100 + 340 + 90.
    let height = 100 + 340 + 95;
    let world = competition(3, TRAINERS, VALIDATORS, height);
    let mut results = Vec::new();
    for delay in delays {
        let mut source = FakeSource::new(world.clone(), height);
        source.latency = Duration::from_millis(delay);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move { axum::serve(listener, router(source)).await });
        for (label, path) in [
            ("finalized round, first page", "/task/1?round=1"),
            ("current round", "/task/1"),
            ("finalized round, last page", "/task/1?round=1&after_rank=949"),
        ] {
            let (mut ttfb, mut full) = (Vec::new(), Vec::new());
            let mut body = String::new();
            for _ in 0..RUNS {
                let (t, f, b) = get(&address, path).await;
                ttfb.push(t);
                full.push(f);
                body = b;
            }
            let api = get(&address, &format!("/api{path}")).await.2;
            let json = api.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
            let queries: u64 =
                serde_json::from_str::<serde_json::Value>(json).ok().and_then(|v| v["queries"].as_u64()).unwrap_or(0);
            assert!(body.contains("id=\"leaderboard\""), "{path} rendered the leaderboard");
            let (ttfb, full) = (median(ttfb), median(full));
            println!(
                "task page, {label} ({TRAINERS} submissions per round, {VALIDATORS} validators), {delay} ms per query: first byte {ttfb:.1} ms, full page {full:.1} ms, {queries} contract queries, {} kB",
                body.len() / 1024
            );
            results.push(serde_json::json!({
                "page": label, "path": path, "query_delay_ms": delay, "ttfb_ms": ttfb, "full_ms": full,
                "queries": queries, "bytes": body.len(), "submissions_per_round": TRAINERS, "validators": VALIDATORS,
            }));
        }
        server.abort();
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("explorer_task_page.json"), serde_json::to_string_pretty(&results).unwrap()).unwrap();
}
