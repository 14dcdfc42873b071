//! The chain with 1 and with 4 validators on the real local network (injectived): block time,
//! submission-to-inclusion time of a bank transfer through `arena_client::Client::send`, and how
//! long a client whose node is SIGKILLed takes to fail over (its next query, and a transaction
//! sent right after the kill, to inclusion).
//!
//! Run: `cargo bench -p testnet --bench validators` (~3 min on 2 cores). `ARENA_BENCH_QUICK=1`
//! (or `-- --quick`) takes fewer samples. Prints a markdown table for BENCHMARKS.md, also written
//! to `<repo>/target/bench/validators.md`; raw samples in `<repo>/target/bench/validators.json`.

use std::time::{Duration, Instant};

use arena_client::cosmrs::bank::MsgSend;
use arena_client::cosmrs::tx::Msg;
use arena_client::cosmrs::{Any, Coin};
use arena_client::{Client, Signer};
use testnet::network::{NetworkConfig, Ports, Validators};
use testnet::{accounts, Network};

struct Figures {
    validators: usize,
    block_ms: f64,
    inclusion_ms: Vec<f64>,
}

fn transfer(from: &Signer, to: &Signer, amount: u128) -> Any {
    let coin = Coin { denom: "inj".parse().unwrap(), amount };
    MsgSend { from_address: from.address().clone(), to_address: to.address().clone(), amount: vec![coin] }
        .to_any()
        .unwrap()
}

fn start(home: &std::path::Path, validators: usize) -> (Network, f64) {
    let started = Instant::now();
    let config = NetworkConfig {
        validators: Validators::equal(validators).unwrap(),
        ..NetworkConfig::new(home, Ports::free().unwrap())
    };
    let network = Network::start(&config).unwrap();
    (network, started.elapsed().as_secs_f64())
}

/// Mean block time over `window`, from node 0's height.
fn block_time(network: &Network, window: Duration) -> f64 {
    let (h0, t0) = (network.node_height(0).unwrap(), Instant::now());
    std::thread::sleep(window);
    let (h1, elapsed) = (network.node_height(0).unwrap(), t0.elapsed());
    elapsed.as_secs_f64() * 1000.0 / (h1 - h0) as f64
}

async fn inclusion_times(client: &Client, samples: usize) -> Vec<f64> {
    let (from, to) = (accounts::cosmos(5, "inj").unwrap(), accounts::cosmos(6, "inj").unwrap());
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        let started = Instant::now();
        client.send(&from, vec![transfer(&from, &to, 1 + i as u128)]).await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick") || std::env::var_os("ARENA_BENCH_QUICK").is_some();
    let (window, samples, kills) =
        if quick { (Duration::from_secs(5), 10, 2) } else { (Duration::from_secs(15), 30, 5) };
    let mut figures = Vec::new();
    let mut failover = Vec::new();
    let mut failover_tx = Vec::new();
    let mut starts = Vec::new();
    for n in [1, 4] {
        let home = tempfile::tempdir().unwrap();
        let (mut network, start_secs) = start(home.path(), n);
        starts.push((n, start_secs));
        // Let the first blocks pass (the first few after genesis are slower).
        std::thread::sleep(Duration::from_secs(2));
        let block_ms = block_time(&network, window);
        let client = Client::connect(network.chain_config()).await.unwrap();
        let inclusion_ms = inclusion_times(&client, samples).await;
        println!("{n} validator(s): start {start_secs:.1} s, block {block_ms:.0} ms");
        figures.push(Figures { validators: n, block_ms, inclusion_ms });
        if n == 4 {
            let (from, to) = (accounts::cosmos(7, "inj").unwrap(), accounts::cosmos(8, "inj").unwrap());
            for k in 0..kills {
                // A fresh client on node 0, warmed by a query; node 0 dies; its next query.
                let client = Client::connect(network.chain_config()).await.unwrap();
                client.latest_height().await.unwrap();
                network.kill_node(0);
                let started = Instant::now();
                client.latest_height().await.unwrap();
                failover.push(started.elapsed().as_secs_f64() * 1000.0);
                assert_ne!(client.current_endpoint(), network.nodes[0].grpc_url());
                network.start_node(0).unwrap();

                // The same with a transfer sent right after the kill, timed to its inclusion.
                let client = Client::connect(network.chain_config()).await.unwrap();
                client.latest_height().await.unwrap();
                network.kill_node(0);
                let started = Instant::now();
                client.send(&from, vec![transfer(&from, &to, 1 + k)]).await.unwrap();
                failover_tx.push(started.elapsed().as_secs_f64() * 1000.0);
                network.start_node(0).unwrap();
            }
        }
        network.stop().unwrap();
    }

    let mut md = String::new();
    md.push_str("| validators | start (s) | block time (ms) | send → included: median (ms) | p90 (ms) | max (ms) |\n");
    md.push_str("|---:|---:|---:|---:|---:|---:|\n");
    for (f, (_, start_secs)) in figures.iter().zip(&starts) {
        let t = sorted(f.inclusion_ms.clone());
        md.push_str(&format!(
            "| {} | {start_secs:.1} | {:.0} | {:.0} | {:.0} | {:.0} |\n",
            f.validators,
            f.block_ms,
            percentile(&t, 0.5),
            percentile(&t, 0.9),
            t[t.len() - 1]
        ));
    }
    let q = sorted(failover);
    let t = sorted(failover_tx);
    md.push_str(&format!(
        "\nFail-over after SIGKILL of the client's node (4 validators, {} kills): the next query {:.0} ms median \
         (max {:.0}); a transfer sent right after the kill, to inclusion, {:.0} ms median (max {:.0}).\n",
        q.len(),
        percentile(&q, 0.5),
        q[q.len() - 1],
        percentile(&t, 0.5),
        t[t.len() - 1]
    ));
    println!("\n{md}");
    let out = testnet::repo::root().join("target/bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("validators.md"), md).unwrap();
    let json = serde_json::json!({
        "networks": figures.iter().zip(&starts).map(|(f, (_, start_secs))| serde_json::json!({
            "validators": f.validators,
            "start_secs": start_secs,
            "block_ms": f.block_ms,
            "inclusion_ms": f.inclusion_ms,
        })).collect::<Vec<_>>(),
        "failover_query_ms": q,
        "failover_transfer_ms": t,
    });
    std::fs::write(out.join("validators.json"), serde_json::to_string_pretty(&json).unwrap()).unwrap();
}
