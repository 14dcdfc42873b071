//! `arena-relayer start`: the settlement loop, the gRPC service and the metrics endpoint together,
//! until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::config::{self, Config};
use crate::error::RelayerError;
use crate::metrics::{self, Metrics};
use crate::service;
use crate::settle::{task, Settler};

/// How long open calls and streams get to finish after a signal.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// A started relayer: where it listens, and its loop.
#[derive(Debug)]
pub struct Running {
    /// The connected settler (shared with the service).
    pub settler: Arc<Settler>,
    /// Bound gRPC address.
    pub grpc: SocketAddr,
    /// Bound metrics address, when served.
    pub metrics: Option<SocketAddr>,
    loop_handle: task::TaskHandle,
    servers: tokio::task::JoinSet<Result<(), RelayerError>>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

/// Resolves `config`, connects to both chains, and starts the loop, gRPC and metrics.
pub async fn start(config: &Config) -> Result<Running, RelayerError> {
    let resolved = config::resolve(config)?;
    tracing::info!(config = ?resolved, "starting relayer");
    let (grpc_listen, metrics_listen) = (resolved.grpc_listen, resolved.metrics_listen);
    let metrics = Metrics::new();
    let settler = Settler::connect(resolved, metrics.clone()).await?;
    let (shutdown, watch) = tokio::sync::watch::channel(false);
    let mut servers = tokio::task::JoinSet::new();

    let mut grpc_stop = watch.clone();
    let (grpc, grpc_server) = service::serve(grpc_listen, settler.clone(), async move {
        let _ = grpc_stop.wait_for(|stop| *stop).await;
    })
    .await?;
    servers.spawn(async move { grpc_server.await.map_err(|e| RelayerError::Rpc(format!("gRPC server: {e}"))) });
    tracing::info!(%grpc, "gRPC service listening (arena.relayer.v1.Relayer, health, reflection)");

    let metrics_addr = match metrics_listen {
        Some(addr) => {
            let (bound, server) = metrics::serve(addr, metrics).await?;
            let mut stop = watch.clone();
            servers.spawn(async move {
                tokio::select! {
                    result = server => result.map_err(RelayerError::io("metrics server")),
                    _ = stop.wait_for(|stop| *stop) => Ok(()),
                }
            });
            tracing::info!(%bound, "metrics at /metrics");
            Some(bound)
        }
        None => None,
    };

    let step_settler = settler.clone();
    let interval = settler.options().poll_interval;
    let loop_handle = task::spawn_loop("settlement", interval, move || {
        let settler = step_settler.clone();
        async move { settler.step().await }
    });
    Ok(Running { settler, grpc, metrics: metrics_addr, loop_handle, servers, shutdown })
}

impl Running {
    /// Runs until SIGINT/SIGTERM, a fatal loop error, or a server failure; then stops everything.
    pub async fn until_signal(mut self) -> Result<(), RelayerError> {
        let signal = async {
            #[cfg(unix)]
            {
                let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler installs");
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
        };
        let result = tokio::select! {
            _ = signal => { tracing::info!("signal received; stopping"); Ok(()) }
            result = self.loop_handle.join() => result,
            Some(result) = self.servers.join_next() => match result {
                Ok(r) => r,
                Err(e) => Err(RelayerError::Rpc(format!("server task: {e}"))),
            },
        };
        // Servers finish their calls; open streams (WatchSettlements) never end by themselves, so
        // whatever is still running after the grace period is cut.
        let _ = self.shutdown.send(true);
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async { while self.servers.join_next().await.is_some() {} });
        if drained.await.is_err() {
            tracing::info!(grace = ?SHUTDOWN_GRACE, "closing the connections still open");
            self.servers.abort_all();
        }
        result
    }
}
