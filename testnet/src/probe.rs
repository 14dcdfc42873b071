//! Readiness probes over plain HTTP/1.1 on loopback: enough to ask a node for its height without
//! pulling an HTTP client into the tool.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// POSTs (or GETs, with `body` None) to `http://127.0.0.1:port/path` and returns the response body
/// if the status is 200.
pub fn http(port: u16, path: &str, body: Option<&str>) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let request = match body {
        Some(b) => format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
            b.len()
        ),
        None => format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    };
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_string())
}

/// The latest block height a CometBFT RPC reports at `/status`.
pub fn comet_height(rpc_port: u16) -> Option<u64> {
    let body = http(rpc_port, "/status", None)?;
    let json: serde_json::Value = serde_json::from_str(dechunk(&body).as_ref()).ok()?;
    json["result"]["sync_info"]["latest_block_height"].as_str()?.parse().ok()
}

/// What a CometBFT node says of itself at `/status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeStatus {
    pub height: u64,
    /// This node's validator's voting power (0 for a node that does not validate).
    pub voting_power: u64,
    pub catching_up: bool,
}

/// A node's height, voting power and sync state.
pub fn comet_node_status(rpc_port: u16) -> Option<NodeStatus> {
    let body = http(rpc_port, "/status", None)?;
    let json: serde_json::Value = serde_json::from_str(dechunk(&body).as_ref()).ok()?;
    let result = &json["result"];
    Some(NodeStatus {
        height: result["sync_info"]["latest_block_height"].as_str()?.parse().ok()?,
        voting_power: result["validator_info"]["voting_power"].as_str()?.parse().ok()?,
        catching_up: result["sync_info"]["catching_up"].as_bool().unwrap_or(false),
    })
}

/// How many peers a CometBFT node is connected to (`/net_info`).
pub fn comet_peers(rpc_port: u16) -> Option<u64> {
    let body = http(rpc_port, "/net_info", None)?;
    let json: serde_json::Value = serde_json::from_str(dechunk(&body).as_ref()).ok()?;
    json["result"]["n_peers"].as_str()?.parse().ok()
}

/// The chain id an Ethereum JSON-RPC node reports.
pub fn evm_chain_id(port: u16) -> Option<u64> {
    let body = http(port, "/", Some(r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#))?;
    let json: serde_json::Value = serde_json::from_str(dechunk(&body).as_ref()).ok()?;
    u64::from_str_radix(json["result"].as_str()?.trim_start_matches("0x"), 16).ok()
}

/// Undoes `Transfer-Encoding: chunked` if the body is chunked; leaves a plain body alone.
fn dechunk(body: &str) -> std::borrow::Cow<'_, str> {
    if body.trim_start().starts_with('{') {
        return body.into();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out.into()
}
