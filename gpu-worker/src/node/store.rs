//! The model store: model files kept under their sha256 in a folder, fetched from `file://` and
//! `http(s)://` URIs, and never used before their hash is checked.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

/// The largest model file a worker fetches unless its task allows more.
pub const DEFAULT_MAX_MODEL_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Error, PartialEq)]
pub enum StoreError {
    #[error("unsupported model URI {uri:?}: use file://PATH or http(s)://...")]
    UnsupportedUri { uri: String },
    #[error("{uri}: {reason}")]
    Unreachable { uri: String, reason: String },
    #[error("{uri}: model file is larger than the {limit}-byte limit")]
    TooLarge { uri: String, limit: u64 },
    #[error("{uri}: sha256 is {found}, but the submission committed to {expected}")]
    HashMismatch { uri: String, expected: String, found: String },
    #[error("model store {path}: {reason}")]
    Io { path: PathBuf, reason: String },
}

/// A content-addressed folder of model files: `<dir>/<sha256>.safetensors`.
#[derive(Clone, Debug)]
pub struct ModelStore {
    dir: PathBuf,
    http: reqwest::Client,
}

impl ModelStore {
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::Io { path: dir.clone(), reason: e.to_string() })?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| StoreError::Io { path: dir.clone(), reason: format!("HTTP client: {e}") })?;
        Ok(ModelStore { dir, http })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the file with this sha256 is (or would be) kept.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}.safetensors"))
    }

    /// The `file://` URI of a stored model, absolute so that any process on this machine resolves it.
    pub fn file_uri(&self, sha256: &str) -> String {
        let path = self.path_of(sha256);
        let absolute = std::path::absolute(&path).unwrap_or(path);
        format!("file://{}", absolute.display())
    }

    /// Stores `bytes` under their sha256 (written to a temporary name and renamed, so a crash
    /// never leaves a partial file under a valid name); returns the hash.
    pub fn put(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let path = self.path_of(&sha256);
        if !path.is_file() {
            let tmp = self.dir.join(format!(".{sha256}.partial"));
            let io = |e: std::io::Error| StoreError::Io { path: path.clone(), reason: e.to_string() };
            std::fs::write(&tmp, bytes).map_err(io)?;
            std::fs::rename(&tmp, &path).map_err(io)?;
        }
        Ok(sha256)
    }

    /// Fetches the model at `uri`, refusing anything over `max_bytes` or whose sha256 is not
    /// `expected`; a verified file is kept in the store and its path returned.
    pub async fn fetch(&self, uri: &str, expected: &str, max_bytes: u64) -> Result<PathBuf, StoreError> {
        let expected = expected.to_ascii_lowercase();
        let cached = self.path_of(&expected);
        if cached.is_file() && sha256_file(&cached).as_deref() == Some(expected.as_str()) {
            return Ok(cached);
        }
        let bytes = self.read_uri(uri, max_bytes).await?;
        let found = hex::encode(Sha256::digest(&bytes));
        if found != expected {
            return Err(StoreError::HashMismatch { uri: uri.into(), expected, found });
        }
        self.put(&bytes)?;
        Ok(cached)
    }

    /// The bytes at a `file://` or `http(s)://` URI, refusing anything over `max_bytes`; nothing
    /// is checked or kept (callers check what they expect of them).
    pub async fn read_uri(&self, uri: &str, max_bytes: u64) -> Result<Vec<u8>, StoreError> {
        if let Some(path) = uri.strip_prefix("file://") {
            let len = std::fs::metadata(path).map_err(|e| unreachable(uri, e))?.len();
            if len > max_bytes {
                return Err(StoreError::TooLarge { uri: uri.into(), limit: max_bytes });
            }
            std::fs::read(path).map_err(|e| unreachable(uri, e))
        } else if uri.starts_with("http://") || uri.starts_with("https://") {
            self.download(uri, max_bytes).await
        } else {
            Err(StoreError::UnsupportedUri { uri: uri.into() })
        }
    }

    /// Downloads with the size limit enforced while reading, so a lying server cannot fill memory.
    async fn download(&self, uri: &str, max_bytes: u64) -> Result<Vec<u8>, StoreError> {
        let mut response = self.http.get(uri).send().await.map_err(|e| unreachable(uri, e))?;
        if !response.status().is_success() {
            return Err(StoreError::Unreachable { uri: uri.into(), reason: format!("HTTP {}", response.status()) });
        }
        if response.content_length().is_some_and(|n| n > max_bytes) {
            return Err(StoreError::TooLarge { uri: uri.into(), limit: max_bytes });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(uri, e))? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > max_bytes {
                return Err(StoreError::TooLarge { uri: uri.into(), limit: max_bytes });
            }
        }
        Ok(bytes)
    }
}

fn unreachable(uri: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Unreachable { uri: uri.into(), reason: e.to_string() }
}

/// Hex sha256 of a file, or None if it cannot be read.
pub fn sha256_file(path: &Path) -> Option<String> {
    std::fs::read(path).ok().map(|b| hex::encode(Sha256::digest(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, ModelStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = ModelStore::open(dir.path().join("store")).unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn a_file_uri_with_the_right_hash_is_fetched_into_the_store() {
        let (dir, store) = store();
        let src = dir.path().join("model.safetensors");
        std::fs::write(&src, b"weights").unwrap();
        let sha = hex::encode(Sha256::digest(b"weights"));
        let path = store.fetch(&format!("file://{}", src.display()), &sha, 1024).await.unwrap();
        assert_eq!(std::fs::read(path).unwrap(), b"weights");
    }

    #[tokio::test]
    async fn a_wrong_hash_is_refused() {
        let (dir, store) = store();
        let src = dir.path().join("model.safetensors");
        std::fs::write(&src, b"tampered").unwrap();
        let expected = hex::encode(Sha256::digest(b"weights"));
        let err = store.fetch(&format!("file://{}", src.display()), &expected, 1024).await.unwrap_err();
        assert!(
            matches!(err, StoreError::HashMismatch { ref found, .. } if *found == hex::encode(Sha256::digest(b"tampered")))
        );
        assert!(!store.path_of(&expected).exists(), "nothing is stored under a hash it does not have");
    }

    #[tokio::test]
    async fn an_oversized_file_is_refused() {
        let (dir, store) = store();
        let src = dir.path().join("big");
        std::fs::write(&src, vec![0u8; 2048]).unwrap();
        let err = store.fetch(&format!("file://{}", src.display()), "00", 1024).await.unwrap_err();
        assert_eq!(err, StoreError::TooLarge { uri: format!("file://{}", src.display()), limit: 1024 });
    }

    #[tokio::test]
    async fn other_schemes_are_refused() {
        let (_dir, store) = store();
        let err = store.fetch("ipfs://Qm", "00", 1024).await.unwrap_err();
        assert_eq!(err, StoreError::UnsupportedUri { uri: "ipfs://Qm".into() });
    }

    #[test]
    fn put_is_content_addressed_and_idempotent() {
        let (_dir, store) = store();
        let a = store.put(b"m").unwrap();
        assert_eq!(store.put(b"m").unwrap(), a);
        assert_eq!(sha256_file(&store.path_of(&a)).unwrap(), a);
    }
}
