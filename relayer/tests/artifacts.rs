//! The committed EVM artifacts are what the committed Solidity compiles to.

mod support;

use std::process::Command;

#[test]
fn committed_artifacts_match_a_fresh_compile() {
    let root = support::workspace_root();
    assert!(
        root.join("node_modules/solc").exists() && root.join("node_modules/@openzeppelin/contracts").exists(),
        "solc-js or @openzeppelin/contracts missing: run the setup: npm ci"
    );
    let output = Command::new("node")
        .arg("contracts/evm/compile.mjs")
        .arg("--check")
        .current_dir(&root)
        .output()
        .expect("node not found: install Node.js and run the setup: npm ci");
    assert!(
        output.status.success(),
        "recompiling contracts/evm gave other bytes than the committed artifacts:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
