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

/// Serves until the task is cancelled.
pub async fn serve(store: ModelStore, listen: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
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
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let server = tokio::spawn(serve(served, addr));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;

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
