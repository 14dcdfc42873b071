//! Prometheus metrics of the settlement loop, served as text at `/metrics`.

use std::net::SocketAddr;

use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};

use crate::error::RelayerError;

/// The relayer's metrics, in their own registry (no process-global state).
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    /// Batches the loop saw for the first time (sealed or later).
    pub batches_seen: IntCounter,
    /// Attestations this relayer submitted.
    pub batches_attested: IntCounter,
    /// Posts this relayer made, by outcome: `posted` (its transaction) or `already_posted`
    /// (another relayer won the race; a success).
    pub batches_posted: IntCounterVec,
    /// Confirmations this relayer recorded on the bridge.
    pub batches_confirmed: IntCounter,
    /// Batches this relayer sealed.
    pub batches_sealed: IntCounter,
    /// Failed steps by kind (`cosmos`, `evm`, `root_mismatch`, …).
    pub errors: IntCounterVec,
    /// Blocks since the oldest unconfirmed batch was sealed (`cosmos`), and since the oldest
    /// posted, unconfirmed batch was posted (`evm`); 0 when nothing waits.
    pub lag_blocks: IntGaugeVec,
    /// Latest height seen, by chain.
    pub height: IntGaugeVec,
    /// Batches by stage as of the last pass (`sealed`, `attested`, `posted`, `confirmed`).
    pub batches: IntGaugeVec,
    /// Cosmos height of the last complete pass.
    pub last_pass_height: IntGauge,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("arena_relayer".into()), None).expect("valid prefix");
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric");
            registry.register(Box::new(c.clone())).expect("registered once");
            c
        };
        let counter_vec = |name: &str, help: &str, label: &str| {
            let c = IntCounterVec::new(Opts::new(name, help), &[label]).expect("valid metric");
            registry.register(Box::new(c.clone())).expect("registered once");
            c
        };
        let gauge_vec = |name: &str, help: &str, label: &str| {
            let g = IntGaugeVec::new(Opts::new(name, help), &[label]).expect("valid metric");
            registry.register(Box::new(g.clone())).expect("registered once");
            g
        };
        let last_pass_height =
            IntGauge::new("last_pass_height", "Cosmos height of the last complete pass").expect("valid");
        registry.register(Box::new(last_pass_height.clone())).expect("registered once");
        Self {
            batches_seen: counter("batches_seen_total", "Batches seen for the first time"),
            batches_attested: counter("batches_attested_total", "Attestations submitted by this relayer"),
            batches_posted: counter_vec("batches_posted_total", "Posts by this relayer, by outcome", "outcome"),
            batches_confirmed: counter("batches_confirmed_total", "Confirmations recorded by this relayer"),
            batches_sealed: counter("batches_sealed_total", "Batches sealed by this relayer"),
            errors: counter_vec("errors_total", "Failed steps by kind", "kind"),
            lag_blocks: gauge_vec("lag_blocks", "Blocks the oldest unfinished batch has waited, by chain", "chain"),
            height: gauge_vec("height", "Latest height seen, by chain", "chain"),
            batches: gauge_vec("batches", "Batches by stage as of the last pass", "stage"),
            last_pass_height,
            registry,
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer).expect("text encoding cannot fail");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Binds `addr` and serves `GET /metrics` until the task is dropped. Returns the bound address
/// (useful with port 0) and the server future.
pub async fn serve(
    addr: SocketAddr,
    metrics: Metrics,
) -> Result<(SocketAddr, impl std::future::Future<Output = std::io::Result<()>>), RelayerError> {
    use axum::routing::get;
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(RelayerError::io(format!("binding metrics on {addr}")))?;
    let bound = listener.local_addr().map_err(RelayerError::io("metrics listener address"))?;
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], metrics.render()) }
        }),
    );
    Ok((bound, async move { axum::serve(listener, app).await }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_exposed_under_the_relayer_prefix() {
        let m = Metrics::new();
        m.batches_seen.inc();
        m.batches_posted.with_label_values(&["already_posted"]).inc();
        m.errors.with_label_values(&["evm"]).inc_by(2);
        m.lag_blocks.with_label_values(&["cosmos"]).set(7);
        let text = m.render();
        assert!(text.contains("arena_relayer_batches_seen_total 1"), "{text}");
        assert!(text.contains("arena_relayer_batches_posted_total{outcome=\"already_posted\"} 1"), "{text}");
        assert!(text.contains("arena_relayer_errors_total{kind=\"evm\"} 2"), "{text}");
        assert!(text.contains("arena_relayer_lag_blocks{chain=\"cosmos\"} 7"), "{text}");
    }
}
