//! Where the repository and its project-owned tools are.

use std::path::{Path, PathBuf};

/// The repository root: `$ARENA_ROOT` if set, else the workspace this crate was built in.
pub fn root() -> PathBuf {
    if let Some(root) = std::env::var_os("ARENA_ROOT") {
        return PathBuf::from(root);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("testnet/ lives in the repository root").to_path_buf()
}

/// A path relative to the repository root (absolute paths are kept).
pub fn resolve(path: impl AsRef<Path>) -> PathBuf {
    let path = path.as_ref();
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        root().join(path)
    }
}

/// An npm-installed executable (`anvil`, `wasm-opt`, ...).
pub fn node_bin(name: &str) -> PathBuf {
    root().join("node_modules/.bin").join(name)
}

/// A cargo-installed tool of the project (`cosmwasm-check`).
pub fn cargo_tool(name: &str) -> PathBuf {
    root().join(".tools/cargo/bin").join(name)
}

/// The default home of the network that `testnet up` keeps running.
pub fn default_home() -> PathBuf {
    root().join(".testnet")
}
