//! `gpu-worker serve`: the worker's model store over HTTP, so validators on other machines can
//! fetch its models. `GET /models/<sha256>.safetensors` answers the file; nothing else is served.

use std::net::SocketAddr;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::node::store::ModelStore;

/// The URI under which a server at `base` (e.g. `http://127.0.0.1:7070`) offers a model.
pub fn model_url(base: &str, sha256: &str) -> String {
    format!("{}/models/{sha256}.safetensors", base.trim_end_matches('/'))
}

pub fn router(store: ModelStore) -> Router {
    Router::new().route("/models/{file}", get(model)).route("/health", get(|| async { "ok" })).with_state(store)
}

/// Binds `listen` (port 0 takes a free port) and serves until the task is cancelled.
pub async fn serve(store: ModelStore, listen: SocketAddr) -> std::io::Result<()> {
    serve_on(store, tokio::net::TcpListener::bind(listen).await?).await
}

/// Serves on a bound listener; the log names the address it is bound to (the port the OS chose).
pub async fn serve_on(store: ModelStore, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let listen = listener.local_addr()?;
    tracing::info!(%listen, store = %store.dir().display(), "serving models");
    axum::serve(listener, router(store)).await
}

async fn model(State(store): State<ModelStore>, Path(file): Path<String>) -> Response {
    // Only `<64 hex>.safetensors`: the name is a hash, never a path.
    let Some(sha) =
        file.strip_suffix(".safetensors").filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
    else {
        return (StatusCode::NOT_FOUND, "not a model name").into_response();
    };
    match tokio::fs::read(store.path_of(&sha.to_ascii_lowercase())).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "no such model").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_served_model_is_fetched_over_http_with_its_hash_checked() {
        let dir = tempfile::tempdir().unwrap();
        let served = ModelStore::open(dir.path().join("served")).unwrap();
        let sha = served.put(b"model bytes").unwrap();
        // Bound before the server starts: connections queue until it accepts them.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve_on(served, listener));

        let fetcher = ModelStore::open(dir.path().join("fetched")).unwrap();
        let base = format!("http://{addr}");
        let path = fetcher.fetch(&model_url(&base, &sha), &sha, 1024).await.unwrap();
        assert_eq!(std::fs::read(path).unwrap(), b"model bytes");
        let missing = fetcher.fetch(&model_url(&base, &"0".repeat(64)), &"0".repeat(64), 1024).await.unwrap_err();
        assert!(
            matches!(missing, crate::node::store::StoreError::Unreachable { ref reason, .. } if reason.contains("404"))
        );
        server.abort();
    }
}
