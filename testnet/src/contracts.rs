//! Builds every CosmWasm contract into MVP wasm that the chain accepts.
//!
//! The chain runs wasmvm 2.1, which accepts only MVP wasm, while rustc ≥ 1.82 emits bulk-memory,
//! sign-ext, non-trapping float-to-int and reference types. So: `cargo build --profile wasm`,
//! then wasm-opt (binaryen 132 from npm) lowers those features away, then `cosmwasm-check`
//! validates the result against the chain's capabilities. Unchanged contracts are not rebuilt.
//!
//! `cosmwasm-check` takes minutes to build once (scripts/test.sh installs it). The chain itself
//! validates every wasm it stores, so the demo and `testnet deploy` go ahead without it when it
//! is not installed; the test command requires it ([`BuildOptions::require_check`]), so every
//! artifact is checked there.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::error::TestnetError;
use crate::process;
use crate::repo;

/// The contracts that are built and deployed, as cargo package names.
/// In deployment order: the market takes the token's and the bridge's addresses.
pub const CONTRACTS: &[&str] = &["arena-token", "arena-bridge", "arena-market"];

/// What the local chain's x/wasm accepts: no cosmwasm_2_2 or cosmwasm_3_0.
pub const CHAIN_CAPABILITIES: &str =
    "iterator,staking,stargate,cosmwasm_1_1,cosmwasm_1_2,cosmwasm_1_3,cosmwasm_1_4,cosmwasm_2_0,cosmwasm_2_1";

/// One built contract.
#[derive(Clone, Debug)]
pub struct Artifact {
    pub package: String,
    pub path: PathBuf,
    /// Hex sha256 of the artifact: the checksum x/wasm records at store.
    pub checksum: String,
    pub size: u64,
    /// False when the artifact was up to date and nothing was done.
    pub rebuilt: bool,
}

/// `arena-token` → `arena_token`.
pub fn file_stem(package: &str) -> String {
    package.replace('-', "_")
}

pub fn artifacts_dir() -> PathBuf {
    repo::root().join("artifacts")
}

/// How [`build_with`] builds.
#[derive(Clone, Copy, Debug, Default)]
pub struct BuildOptions {
    /// Fail unless every artifact passed `cosmwasm-check` (else it is skipped when not installed).
    pub require_check: bool,
    /// Show cargo's own progress on stderr while the contracts compile.
    pub progress: bool,
}

/// Builds `packages` (all of [`CONTRACTS`] when empty) into `artifacts/`, with `checksums.txt`,
/// checking them with `cosmwasm-check` when it is installed.
pub fn build(packages: &[&str]) -> Result<Vec<Artifact>, TestnetError> {
    build_with(packages, BuildOptions::default())
}

pub fn build_with(packages: &[&str], options: BuildOptions) -> Result<Vec<Artifact>, TestnetError> {
    let packages = if packages.is_empty() { CONTRACTS } else { packages };
    let root = repo::root();
    let wasm_opt = tool(repo::node_bin("wasm-opt"), "wasm-opt", "Run scripts/setup.sh (`npm ci` installs binaryen)")?;
    let check = match tool(
        repo::cargo_tool("cosmwasm-check"),
        "cosmwasm-check",
        "Run scripts/test.sh once, or `source scripts/setup.sh && install_cosmwasm_check` (it builds cosmwasm-check into .tools/cargo)",
    ) {
        Ok(check) => Some(check),
        Err(e) if options.require_check => return Err(e),
        Err(_) => {
            tracing::info!("cosmwasm-check is not installed: the chain validates each wasm as it stores it");
            None
        }
    };

    let out_dir = artifacts_dir();
    std::fs::create_dir_all(&out_dir).map_err(TestnetError::io("creating artifacts/"))?;
    // One build at a time, across threads and processes (tests build in parallel): a second
    // builder waits here, then finds the artifacts up to date.
    let lock = std::fs::File::create(out_dir.join(".lock")).map_err(TestnetError::io("creating artifacts/.lock"))?;
    lock.lock().map_err(TestnetError::io("locking artifacts/.lock"))?;

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(&root).args(["build", "--profile", "wasm", "--lib", "--target", "wasm32-unknown-unknown"]);
    for p in packages {
        command.args(["-p", p]);
    }
    // Our own target folder, so the build does not wait for (or invalidate) a host build's lock.
    command.env("CARGO_TARGET_DIR", root.join("target/contracts"));
    if options.progress {
        process::run_showing_progress(&mut command).map_err(|e| TestnetError::Build(e.to_string()))?;
    } else {
        process::run(&mut command).map_err(|e| TestnetError::Build(e.to_string()))?;
    }

    let mut artifacts = Vec::new();
    for package in packages {
        let stem = file_stem(package);
        let raw = root.join("target/contracts/wasm32-unknown-unknown/wasm").join(format!("{stem}.wasm"));
        let raw_sum = sha256_file(&raw)?;
        let out = out_dir.join(format!("{stem}.wasm"));
        let stamp = out_dir.join(format!("{stem}.source-sha256"));
        let up_to_date = out.is_file() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(raw_sum.as_str());
        // `{stem}.checked` holds the checksum of the artifact that passed cosmwasm-check.
        let checked_stamp = out_dir.join(format!("{stem}.checked"));
        if !up_to_date {
            // Built (and checked) under a temporary name, renamed into place only when it passes.
            let fresh = out.with_extension("fresh.wasm");
            optimize(&wasm_opt, &raw, &fresh)?;
            if let Some(check) = &check {
                cosmwasm_check(check, package, &fresh)?;
            }
            std::fs::rename(&fresh, &out).map_err(TestnetError::io("moving the artifact into place"))?;
            std::fs::write(&stamp, &raw_sum).map_err(TestnetError::io("writing build stamp"))?;
            let _ = std::fs::remove_file(&checked_stamp);
            if check.is_some() {
                std::fs::write(&checked_stamp, sha256_file(&out)?).map_err(TestnetError::io("writing check stamp"))?;
            }
        }
        let checksum = sha256_file(&out)?;
        let checked = std::fs::read_to_string(&checked_stamp).ok().as_deref() == Some(checksum.as_str());
        if !checked {
            // Built before cosmwasm-check was installed: check it now.
            if let Some(check) = &check {
                cosmwasm_check(check, package, &out)?;
                std::fs::write(&checked_stamp, &checksum).map_err(TestnetError::io("writing check stamp"))?;
            }
        }
        let size = std::fs::metadata(&out).map_err(TestnetError::io("artifact"))?.len();
        artifacts.push(Artifact { package: package.to_string(), checksum, path: out, size, rebuilt: !up_to_date });
    }
    write_checksums(&out_dir)?;
    Ok(artifacts)
}

/// Validates a wasm file against the chain's capabilities.
fn cosmwasm_check(check: &Path, package: &str, wasm: &Path) -> Result<(), TestnetError> {
    process::run(Command::new(check).args(["--available-capabilities", CHAIN_CAPABILITIES]).arg(wasm))
        .map_err(|e| TestnetError::Build(format!("{package} fails cosmwasm-check: {e}")))?;
    Ok(())
}

/// Lowers post-MVP features and shrinks. Two passes: the second, with only MVP features
/// enabled, removes the reference-types the first leaves behind.
fn optimize(wasm_opt: &Path, raw: &Path, out: &Path) -> Result<(), TestnetError> {
    let tmp = out.with_extension("lowered.wasm");
    process::run(
        Command::new(wasm_opt)
            .arg(raw)
            .args(["--strip-target-features", "--strip-debug", "--llvm-memory-copy-fill-lowering"])
            .args(["--llvm-nontrapping-fptoint-lowering", "--signext-lowering", "-Os", "-o"])
            .arg(&tmp),
    )
    .map_err(|e| TestnetError::Build(e.to_string()))?;
    process::run(Command::new(wasm_opt).arg(&tmp).args(["--mvp-features", "-Os", "-o"]).arg(out))
        .map_err(|e| TestnetError::Build(e.to_string()))?;
    std::fs::remove_file(&tmp).map_err(TestnetError::io("removing temporary wasm"))
}

/// `checksums.txt` in the format of `sha256sum` (and of cosmwasm/optimizer).
fn write_checksums(dir: &Path) -> Result<(), TestnetError> {
    let mut lines = Vec::new();
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).map_err(TestnetError::io("reading artifacts/"))?.flatten().map(|e| e.path()).collect();
    entries.sort();
    // Artifacts only (`name.wasm`), not a build's temporary `name.fresh.wasm`.
    let is_artifact = |p: &PathBuf| {
        p.extension().is_some_and(|e| e == "wasm") && p.file_stem().is_some_and(|s| !s.to_string_lossy().contains('.'))
    };
    for path in entries.into_iter().filter(is_artifact) {
        lines.push(format!("{}  {}", sha256_file(&path)?, path.file_name().unwrap().to_string_lossy()));
    }
    std::fs::write(dir.join("checksums.txt"), lines.join("\n") + "\n")
        .map_err(TestnetError::io("writing checksums.txt"))
}

pub fn sha256_file(path: &Path) -> Result<String, TestnetError> {
    let bytes = std::fs::read(path).map_err(TestnetError::io(format!("reading {}", path.display())))?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

fn tool(path: PathBuf, tool: &'static str, hint: &'static str) -> Result<PathBuf, TestnetError> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(TestnetError::ToolMissing { tool, path, hint })
    }
}
