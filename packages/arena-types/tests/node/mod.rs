//! Runs a reference script of this folder under node, with the workspace's pinned npm packages.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The workspace root: two levels above this crate.
fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `tests/<script>` with `input` as JSON on stdin and parses its stdout as JSON.
/// Panics with what to do when node or the npm packages are missing.
pub fn run(script: &str, input: &serde_json::Value) -> serde_json::Value {
    let root = workspace_root();
    let package = root.join("node_modules/@openzeppelin/merkle-tree");
    assert!(
        package.is_dir(),
        "{} is missing: run `npm ci` at the repository root ({}) to install the pinned npm tools",
        package.display(),
        root.display()
    );
    let script_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join(script);
    let mut child = Command::new("node")
        .arg(&script_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `node` ({e}): install Node.js >= 18 and put it on PATH"));
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "node {} failed: {}",
        script_path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A small deterministic generator (splitmix64), so the cases are the same on every run.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for chunk in out.chunks_mut(8) {
            let word = self.next().to_be_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        out
    }
}
