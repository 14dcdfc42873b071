//! New blocks as the node commits them, for loops that act once per block rather than on a
//! timer: a CometBFT websocket subscription to `tm.event='NewBlockHeader'` at `<rpc>/websocket`,
//! opened again whenever it drops (a node restart, a network hiccup).
//!
//! Waiting is bounded by the caller's fallback interval, so a node that offers no websocket (or
//! an `https` RPC, which this plain-`ws` follower does not speak) still works, only on a timer.

use std::time::Duration;

use arena_retry::{Backoff, Outcome, Pace};
use futures::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

const SUBSCRIBE: &str =
    r#"{"jsonrpc":"2.0","id":1,"method":"subscribe","params":{"query":"tm.event='NewBlockHeader'"}}"#;
/// Reconnection delays: 200 ms doubling up to 5 s, for as long as the follower lives; a
/// subscription that delivered blocks starts the curve again.
const RECONNECT: Backoff = Backoff::forever(Duration::from_millis(200), Duration::from_secs(5));

/// What woke a [`Blocks::next`] wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// A block of this height was committed.
    Block(u64),
    /// The fallback interval passed first.
    Timeout,
}

/// Follows a node's new blocks in a background task, stopped when this is dropped.
pub struct Blocks {
    latest: watch::Receiver<u64>,
    task: Option<JoinHandle<()>>,
}

impl Blocks {
    /// Starts following the node whose CometBFT RPC is `rpc_url` (`http://127.0.0.1:26657`).
    /// Must be called inside a tokio runtime.
    pub fn follow(rpc_url: &str) -> Self {
        let (tx, latest) = watch::channel(0);
        let task = websocket_url(rpc_url).map(|url| tokio::spawn(follow(url, tx)));
        if task.is_none() {
            tracing::info!(rpc_url, "no plain websocket for this RPC URL; looking for new blocks on a timer");
        }
        Blocks { latest, task }
    }

    /// Waits for a block newer than the last one this follower reported, or for `fallback`,
    /// whichever comes first.
    pub async fn next(&mut self, fallback: Duration) -> Wake {
        match tokio::time::timeout(fallback, self.latest.changed()).await {
            Ok(Ok(())) => Wake::Block(*self.latest.borrow_and_update()),
            // The follower stopped (it never does while this handle lives), or time ran out.
            Ok(Err(_)) => {
                tokio::time::sleep(fallback).await;
                Wake::Timeout
            }
            Err(_) => Wake::Timeout,
        }
    }
}

/// A loop that steps once per block: each wait ends at the next block, or after `fallback` when
/// none comes (a node without a websocket, a chain that halted), successes and failures alike: a
/// step that failed is tried again on the next block, which is when the chain may have changed.
pub struct PerBlock {
    blocks: Blocks,
    fallback: Duration,
}

impl Blocks {
    /// Paces a [`run_steps`](arena_retry::run_steps) loop by these blocks.
    pub fn pace(self, fallback: Duration) -> PerBlock {
        PerBlock { blocks: self, fallback }
    }
}

impl Pace for PerBlock {
    async fn wait(&mut self, _after: Outcome) {
        self.blocks.next(self.fallback).await;
    }
}

impl Drop for Blocks {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// `http://host:port[/]` → `ws://host:port/websocket`; None for anything else.
fn websocket_url(rpc_url: &str) -> Option<String> {
    let rest = rpc_url.strip_prefix("http://").or_else(|| rpc_url.strip_prefix("ws://"))?;
    let host = rest.trim_end_matches('/').trim_end_matches("/websocket");
    (!host.is_empty() && !host.contains('/')).then(|| format!("ws://{host}/websocket"))
}

async fn follow(url: String, latest: watch::Sender<u64>) {
    let mut delays = RECONNECT.delays();
    loop {
        match subscribe(&url, &latest).await {
            // A subscription that delivered blocks was healthy: reconnect quickly.
            Ok(true) => delays = RECONNECT.delays(),
            Ok(false) => {}
            Err(e) => tracing::debug!(%url, error = %e, "block subscription dropped"),
        }
        tokio::time::sleep(delays.next().unwrap_or(RECONNECT.max)).await;
    }
}

/// One websocket session: subscribes and publishes every height until the socket closes.
/// Returns whether any block came.
async fn subscribe(url: &str, latest: &watch::Sender<u64>) -> Result<bool, tokio_tungstenite::tungstenite::Error> {
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await?;
    socket.send(Message::text(SUBSCRIBE)).await?;
    let mut got_blocks = false;
    while let Some(message) = socket.next().await {
        match message? {
            Message::Text(text) => {
                if let Some(height) = header_height(&text) {
                    got_blocks = true;
                    latest.send_replace(height);
                }
            }
            Message::Ping(payload) => socket.send(Message::Pong(payload)).await?,
            Message::Close(_) => break,
            _ => {}
        }
    }
    Ok(got_blocks)
}

/// The height of a `NewBlockHeader` event; None for anything else (the subscription's empty
/// first reply, errors).
fn header_height(text: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    v.pointer("/result/data/value/header/height")?.as_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_urls_map_to_the_websocket_endpoint() {
        assert_eq!(websocket_url("http://127.0.0.1:26657").as_deref(), Some("ws://127.0.0.1:26657/websocket"));
        assert_eq!(websocket_url("http://127.0.0.1:26657/").as_deref(), Some("ws://127.0.0.1:26657/websocket"));
        assert_eq!(websocket_url("ws://node:26657/websocket").as_deref(), Some("ws://node:26657/websocket"));
        assert_eq!(websocket_url("https://rpc.example.com"), None);
        assert_eq!(websocket_url("http://proxy/cometbft/rpc"), None);
    }

    #[test]
    fn heights_are_read_from_new_block_header_events() {
        let event = r#"{"jsonrpc":"2.0","id":1,"result":{"query":"tm.event='NewBlockHeader'",
            "data":{"type":"tendermint/event/NewBlockHeader","value":{"header":{"height":"4242"}}}}}"#;
        assert_eq!(header_height(event), Some(4242));
        assert_eq!(header_height(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#), None);
        assert_eq!(header_height("not json"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_follower_without_a_websocket_waits_out_the_fallback() {
        let mut blocks = Blocks::follow("https://rpc.example.com");
        let started = tokio::time::Instant::now();
        assert_eq!(blocks.next(Duration::from_millis(500)).await, Wake::Timeout);
        assert_eq!(started.elapsed(), Duration::from_millis(500));
    }
}
