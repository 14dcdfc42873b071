//! The `testnet` binary itself, as a user runs it: one network walked through `accounts`,
//! `status`, `up` (and a refused second `up`), `deploy`, `create-task`, `balance` and `down`, on
//! free ports in a temporary home. A guard stops the network by PID if an assertion fails half-way.
//! Budget: about 30 s on 2 cores (network up ~5 s, deploy with the EVM contracts ~10 s).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use testnet::network::{self, Ports};
use testnet::{accounts, deploy, process};

/// Stops whatever still runs from `home` when the test ends, passing or not.
struct StopOnDrop(PathBuf);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        for service in network::running_services(&self.0) {
            let _ = service.stop(Duration::from_secs(15));
        }
    }
}

fn testnet(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_testnet"))
        .arg("--home")
        .arg(home)
        .args(args)
        .current_dir(testnet::repo::root())
        .env_remove("ARENA_TESTNET_HOME")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the testnet binary runs")
}

/// Runs a command that must succeed and returns its stdout.
fn ok(home: &Path, args: &[&str]) -> String {
    let out = testnet(home, args);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "testnet {args:?} failed ({}):\n{stdout}\n{stderr}", out.status);
    stdout.into_owned()
}

/// The number after `key` in `text` (`pid 1234` gives 1234 for key "pid ").
fn number_after(text: &str, key: &str) -> u64 {
    let rest = &text[text.find(key).unwrap_or_else(|| panic!("{key:?} not in {text}")) + key.len()..];
    rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap_or_else(|_| panic!("{text}"))
}

#[test]
fn the_cli_walks_a_network_from_up_to_down() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("net");
    let _guard = StopOnDrop(home.clone());

    // Before anything runs: the accounts are the documented ones, and status says there is nothing.
    let listed = ok(&home, &["accounts"]);
    assert!(listed.contains(accounts::DEV_MNEMONIC), "{listed}");
    let deployer = accounts::cosmos(accounts::DEPLOYER, "inj").unwrap().address().to_string();
    assert!(listed.contains(&format!(" 0 {deployer}  deployer, token minter")), "{listed}");
    assert!(listed.contains(&format!("19 {}", accounts::cosmos(19, "inj").unwrap().address())), "{listed}");
    assert!(listed.contains(&format!(" 9 {} {}", accounts::EVM_ADDRESSES[9], accounts::EVM_KEYS[9])), "{listed}");
    assert!(ok(&home, &["status"]).contains("no network has been started"));

    let p = Ports::free().unwrap();
    let ports = [
        ("--rpc-port", p.chain.rpc),
        ("--grpc-port", p.chain.grpc),
        ("--rest-port", p.chain.rest),
        ("--p2p-port", p.chain.p2p),
        ("--evm-port", p.evm),
    ]
    .map(|(flag, port)| [flag.to_string(), port.to_string()]);
    let up_args: Vec<&str> = std::iter::once("up").chain(ports.iter().flatten().map(String::as_str)).collect();
    let up = ok(&home, &up_args);
    assert!(up.contains("network up in") && up.contains(&format!("http://127.0.0.1:{}", p.evm)), "{up}");

    // `up` returned, and both nodes run on, detached, with the ports asked for.
    let status = ok(&home, &["status"]);
    let chain_pid = number_after(&status, "chain: running (pid ") as u32;
    let evm_pid = number_after(&status, "evm:   running (pid ") as u32;
    assert!(number_after(&status, "height ") >= 2, "{status}");
    assert!(status.contains(&format!("RPC port {}, gRPC port {}", p.chain.rpc, p.chain.grpc)), "{status}");
    assert!(status.contains(&format!("chain id 84532, port {}", p.evm)), "{status}");
    assert!(status.contains("nothing deployed yet"), "{status}");
    assert!(process::is_alive(chain_pid) && process::is_alive(evm_pid));

    // A second network from the same home is refused before it touches anything.
    let again = testnet(&home, &up_args);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success(), "a second `up` succeeded");
    assert!(
        stderr.contains(&format!("a network is already running from {}", home.display()))
            && stderr.contains(&format!("pid {chain_pid}"))
            && stderr.contains("`testnet down` stops it"),
        "{stderr}"
    );
    assert!(process::is_alive(chain_pid) && process::is_alive(evm_pid), "the refused `up` stopped the network");

    // Deploy writes a manifest naming the three contracts and the two EVM contracts.
    let deployed = ok(&home, &["deploy"]);
    let manifest = testnet::manifest::Manifest::read(&testnet::manifest::Manifest::path(&home)).unwrap();
    assert_eq!(manifest.contracts.keys().collect::<Vec<_>>(), ["arena-bridge", "arena-market", "arena-token"]);
    assert_eq!(manifest.evm.contracts.len(), 2, "{deployed}");
    assert_eq!(manifest.chain.grpc_url, format!("http://127.0.0.1:{}", p.chain.grpc));
    let status = ok(&home, &["status"]);
    for (name, c) in &manifest.contracts {
        assert!(status.contains(&format!("{name}: code {} at {}", c.code_id, c.address)), "{status}");
    }

    // create-task funds the pool and the creator's bond (as much as the pool, the market's
    // minimum) from account 1, seals one evaluation shard per round (only ciphertext is written)
    // and saves the beacon secret and the evaluation keys, mode 600.
    let pool = 5_000_000u128;
    let bond = pool;
    let pool_arg = pool.to_string();
    let task = ok(&home, &["create-task", "--rounds", "2", "--phases", "30", "10", "20", "20", "--pool", &pool_arg]);
    let creator = accounts::cosmos(1, "inj").unwrap().address().to_string();
    assert!(task.contains(&format!("task 1 created by {creator}")), "{task}");
    assert!(task.contains("2 rounds of 30 + 10 + 20 + 20 blocks"), "{task}");
    assert!(task.contains(&format!("pool {pool}, bond {bond}")), "{task}");
    use std::os::unix::fs::PermissionsExt;
    for file in [arena_client::BeaconSecret::path_in(&home, 1), arena_client::EvaluationKeys::path_in(&home, 1)] {
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "{}", file.display());
        assert!(task.contains(&file.display().to_string()), "{task}");
    }
    let shards: Vec<_> = std::fs::read_dir(home.join("shards"))
        .unwrap()
        .flat_map(|task| std::fs::read_dir(task.unwrap().path()).unwrap())
        .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(shards.len(), 2, "{shards:?}");
    assert!(shards.iter().all(|name| name.ends_with(".csv.enc")), "no plaintext shard is written: {shards:?}");
    assert!(task.contains("round 2 shard"), "{task}");

    // balance by account index and by address.
    let start = deploy::TOKEN_BALANCE_PER_ACCOUNT;
    assert_eq!(ok(&home, &["balance", "1"]).trim(), format!("{creator}: {} ARENA-micro", start - pool - bond));
    let other = accounts::cosmos(2, "inj").unwrap().address().to_string();
    assert_eq!(ok(&home, &["balance", &other]).trim(), format!("{other}: {start} ARENA-micro"));

    // --params takes every parameter from a TaskParams file; its beacon and evaluation may be
    // left out: they are always the fresh secret's anchor and --eval sealed into `rounds` shards.
    let phases = testnet::task::PhaseBlocks { submission: 30, model_reveal: 10, commit: 20, reveal: 20 };
    let scratch = tempfile::tempdir().unwrap();
    let (params, _) = testnet::task::TaskSpec::digits(3, phases)
        .params(&arena_client::BeaconSecret::generate(), scratch.path())
        .unwrap();
    let mut json = serde_json::to_value(&params).unwrap();
    let fields = json.as_object_mut().unwrap();
    fields.remove("beacon");
    fields.remove("evaluation");
    let file = home.join("params.json");
    std::fs::write(&file, json.to_string()).unwrap();
    let task = ok(&home, &["create-task", "--params", file.to_str().unwrap(), "--creator", "3", "--pool", &pool_arg]);
    assert!(task.contains("task 2 created by") && task.contains("3 rounds of 30 + 10 + 20 + 20 blocks"), "{task}");
    assert!(task.contains("round 3 shard"), "{task}");
    let keys = arena_client::EvaluationKeys::read(&arena_client::EvaluationKeys::path_in(&home, 2)).unwrap();
    assert_eq!(keys.rounds(), 3);

    // down stops both by PID and waits for them; the home (and its chain) stays until --wipe.
    let down = ok(&home, &["down"]);
    assert!(down.contains(&format!("stopped chain (pid {chain_pid})")), "{down}");
    assert!(down.contains(&format!("stopped evm (pid {evm_pid})")), "{down}");
    assert!(!process::is_alive(chain_pid) && !process::is_alive(evm_pid));
    let status = ok(&home, &["status"]);
    assert!(status.contains("chain: stopped") && status.contains("evm:   stopped"), "{status}");
    assert!(ok(&home, &["down"]).contains("no network running"));
    assert!(ok(&home, &["down", "--wipe"]).contains(&format!("removed {}", home.display())));
    assert!(!home.exists());
}
