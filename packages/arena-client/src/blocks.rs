//! New blocks as the node commits them, for loops that act once per block rather than on a
//! timer: a CometBFT websocket subscription to `tm.event='NewBlockHeader'` at `<rpc>/websocket`,
//! opened again whenever it drops (a node restart, a network hiccup).
//!
//! With several nodes' RPCs ([`Blocks::follow_any`]) it follows one at a time and moves to the
//! next when the socket drops, cannot be opened, or brings no block for [`STALE_SOCKET`] (a node
//! that stopped advancing); heights only ever go up across a switch.
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
/// With several nodes, a subscription that brings no block for this long is left for the next
/// node: the client's stale bound ([`crate::ChainConfig::DEFAULT_STALE_AFTER`]). A halted chain
/// makes the follower go round the nodes at the reconnection pace, which costs nothing.
pub const STALE_SOCKET: Duration = crate::ChainConfig::DEFAULT_STALE_AFTER;

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
        Self::follow_any(&[rpc_url.to_string()])
    }

    /// Follows the first of these nodes (CometBFT RPCs of the same chain) that delivers blocks,
    /// moving to the next when it drops or goes stale. URLs without a plain websocket are skipped;
    /// with none left, blocks are looked for on a timer. Must be called inside a tokio runtime.
    pub fn follow_any(rpc_urls: &[String]) -> Self {
        Self::follow_with(rpc_urls, STALE_SOCKET)
    }

    fn follow_with(rpc_urls: &[String], stale: Duration) -> Self {
        let (tx, latest) = watch::channel(0);
        let urls: Vec<String> = rpc_urls.iter().filter_map(|u| websocket_url(u)).collect();
        let task = (!urls.is_empty()).then(|| tokio::spawn(follow(urls, tx, stale)));
        if task.is_none() {
            tracing::info!(?rpc_urls, "no plain websocket for these RPC URLs; looking for new blocks on a timer");
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

async fn follow(urls: Vec<String>, latest: watch::Sender<u64>, stale: Duration) {
    let mut delays = RECONNECT.delays();
    let several = urls.len() > 1;
    let stale = several.then_some(stale);
    for url in urls.iter().cycle() {
        match subscribe(url, &latest, stale).await {
            // A subscription that delivered blocks was healthy: reconnect quickly.
            Ok(true) => delays = RECONNECT.delays(),
            Ok(false) => {}
            Err(e) => tracing::debug!(%url, error = %e, "block subscription dropped"),
        }
        if several {
            tracing::debug!(%url, "block subscription ended; trying the next node");
        }
        tokio::time::sleep(delays.next().unwrap_or(RECONNECT.max)).await;
    }
}

/// One websocket session: subscribes and publishes every height until the socket closes (or,
/// with `stale` set, until no block came for that long). Returns whether any block came.
async fn subscribe(
    url: &str,
    latest: &watch::Sender<u64>,
    stale: Option<Duration>,
) -> Result<bool, tokio_tungstenite::tungstenite::Error> {
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await?;
    socket.send(Message::text(SUBSCRIBE)).await?;
    let mut got_blocks = false;
    loop {
        let message = match stale {
            Some(bound) => match tokio::time::timeout(bound, socket.next()).await {
                Ok(message) => message,
                Err(_) => break,
            },
            None => socket.next().await,
        };
        let Some(message) = message else { break };
        match message? {
            Message::Text(text) => {
                if let Some(height) = header_height(&text) {
                    got_blocks = true;
                    if stale.is_some() {
                        // Another node may be a block behind the last one: heights only go up.
                        latest.send_if_modified(|h| std::mem::replace(h, height.max(*h)) < height);
                    } else {
                        latest.send_replace(height);
                    }
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

    /// A local websocket server that accepts, answers the subscription, sends `heights` as
    /// `NewBlockHeader` events, then holds the socket open without sending anything.
    async fn node_sending(heights: Vec<u64>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let heights = heights.clone();
                tokio::spawn(async move {
                    let mut socket = tokio_tungstenite::accept_async(stream).await.unwrap();
                    let _subscribe = socket.next().await;
                    for h in heights {
                        let event = format!(r#"{{"result":{{"data":{{"value":{{"header":{{"height":"{h}"}}}}}}}}}}"#);
                        if socket.send(Message::text(event)).await.is_err() {
                            return;
                        }
                    }
                    std::future::pending::<()>().await;
                });
            }
        });
        url
    }

    /// The first node is dead (nothing listens), the second brings one block then goes silent
    /// (stale), the third keeps the chain: the follower gets there and never reports a lower
    /// height than one it reported. Real time (sockets), a 300 ms stale bound: ~1 s.
    #[tokio::test]
    async fn a_follower_of_several_nodes_moves_past_dead_and_stale_ones() {
        let dead = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", listener.local_addr().unwrap())
        };
        let stale = node_sending(vec![10]).await;
        let live = node_sending(vec![9, 11, 12]).await;
        let mut blocks = Blocks::follow_with(&[dead, stale, live], Duration::from_millis(300));
        let mut seen = Vec::new();
        while seen.last() != Some(&12) {
            match blocks.next(Duration::from_secs(10)).await {
                Wake::Block(h) => seen.push(h),
                Wake::Timeout => panic!("no block within 10 s; saw {seen:?}"),
            }
        }
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "heights went down: {seen:?}");
        assert_eq!(seen.first(), Some(&10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_follower_without_a_websocket_waits_out_the_fallback() {
        let mut blocks = Blocks::follow("https://rpc.example.com");
        let started = tokio::time::Instant::now();
        assert_eq!(blocks.next(Duration::from_millis(500)).await, Wake::Timeout);
        assert_eq!(started.elapsed(), Duration::from_millis(500));
    }
}
