//! `arena-explorer`: serves the explorer for a deployment.
//!
//! ```sh
//! arena-explorer --manifest .testnet/manifest.json --listen 127.0.0.1:8700 --relayer http://127.0.0.1:50051
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use arena_client::Manifest;
use arena_explorer::server::router;
use arena_explorer::source::ChainSource;
use clap::Parser;

/// Web pages and a JSON API over an Arena deployment, live as blocks arrive.
#[derive(Parser, Debug)]
#[command(name = "arena-explorer", version)]
struct Cli {
    /// The deployment manifest `testnet deploy` writes.
    #[arg(long, default_value = ".testnet/manifest.json", env = "ARENA_MANIFEST")]
    manifest: PathBuf,
    /// Where to serve the pages.
    #[arg(long, default_value = "127.0.0.1:8700")]
    listen: SocketAddr,
    /// A relayer's gRPC endpoint (`http://HOST:PORT`); repeat for each relayer.
    #[arg(long = "relayer")]
    relayers: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let cli = Cli::parse();
    let manifest = Manifest::read(&cli.manifest)?;
    let source = ChainSource::start(&manifest, &cli.relayers).map_err(anyhow::Error::msg)?;
    let head = source.first_head(Duration::from_secs(3)).await;
    if !head.reachable {
        tracing::warn!(error = ?head.error, "the chain is not reachable yet; pages say so until it is");
    }
    let listener = tokio::net::TcpListener::bind(cli.listen).await.with_context(|| {
        format!("cannot listen on {}: is another explorer running there? Pick another --listen", cli.listen)
    })?;
    let address = listener.local_addr()?;
    println!("Arena explorer for {} at http://{address}/", manifest.chain.chain_id);
    axum::serve(listener, router(source))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")
}
