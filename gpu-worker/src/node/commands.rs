//! The node's subcommands (`run`, `serve`, `status`, `rewards`, `claim`), called from main.rs.

use std::net::SocketAddr;
use std::path::Path;

use crate::Backend;
use arena_types::market::msg::ExecuteMsg;

use crate::node::config::{self, NodeRole};
use crate::node::context::Node;
use crate::node::error::NodeError;
use crate::node::journal::{Journal, SealJournal};
use crate::node::store::ModelStore;
use crate::node::{creator, serve, trainer, validator};

/// `gpu-worker run`: the node works its role until its task is over (or Ctrl-C).
pub async fn run(config_path: &Path, role: Option<NodeRole>, backend: Backend) -> Result<(), NodeError> {
    let mut config = config::load(config_path)?;
    if let Some(role) = role {
        config.role = role;
    }
    let role = config.role;
    let node = Node::connect(config).await?;
    tracing::info!(address = %node.address(), task = node.task_id(), ?role, "node starting");
    let work = async {
        match role {
            NodeRole::Trainer => trainer::run(node, backend).await,
            NodeRole::Validator => validator::run(node, backend).await,
            NodeRole::Creator => creator::run(node).await,
        }
    };
    tokio::select! {
        result = work => result,
        _ = tokio::signal::ctrl_c() => {
            // Safe at any instant: the journal is written before each commit, the chain is the record.
            tracing::info!("interrupted; stopping");
            Ok(())
        }
    }
}

/// `gpu-worker serve`: offers the store's models over HTTP.
pub async fn serve(store: &Path, listen: SocketAddr) -> Result<(), NodeError> {
    let store = ModelStore::open(store)?;
    serve::serve(store, listen).await.map_err(|e| NodeError::Config { path: "--listen".into(), reason: e.to_string() })
}

/// `gpu-worker status`: the node's task, stake, pending work and rewards.
pub async fn status(config_path: &Path) -> Result<(), NodeError> {
    let node = Node::connect(config::load(config_path)?).await?;
    let task = node.task().await?;
    println!("account   {}", node.address());
    println!(
        "task      {} ({}): round {}/{} in {:?} until {} ({:?}), {} rounds finalized",
        task.id,
        task.params.metric.name,
        task.now.round,
        task.params.rounds,
        task.now.phase,
        task.now.ends_at,
        task.params.phases.clock,
        task.rounds_finalized
    );
    if node.config.role == NodeRole::Creator {
        let beacon = node.market.beacon(task.id).await?;
        let next = match (beacon.next_round, beacon.next_opens_at, beacon.next_deadline) {
            (Some(r), Some(opens), Some(deadline)) => {
                format!("; round {r}'s is due from {opens}, sampling waits until {deadline}")
            }
            _ => String::new(),
        };
        println!("beacon    revealed through round {}{next}", beacon.revealed_round);
        println!("secret    {}", config::beacon_secret_file(&node.config).display());
        let round = node.market.round(task.id, task.now.round).await?;
        let key = match (&round.evaluation_key, round.void) {
            (Some(_), _) => "revealed".to_string(),
            (None, true) => "missed: the round is void".to_string(),
            (None, false) => format!(
                "due from {} until {}",
                task.schedule.commit_start(round.round),
                task.schedule.key_deadline(round.round)
            ),
        };
        println!("eval key  round {}: {key}", round.round);
        println!("keys      {} (bond {})", config::evaluation_keys_file(&node.config).display(), task.accounts.bond);
        return Ok(());
    }
    match node.participant().await? {
        Some(p) => println!(
            "stake     {:?}: own {}, delegated {}, effective {}, unbonding {}, slashed {}",
            p.role, p.own, p.delegated, p.effective, p.unbonding, p.slashed
        ),
        None => println!("stake     not joined ({:?} by config)", node.config.role),
    }
    if task.stakes_count_from <= task.params.rounds {
        println!("          a stake change made now counts from round {}", task.stakes_count_from);
    }
    if node.config.role == NodeRole::Trainer {
        let journal = SealJournal::open(node.config.state_dir.join("sealed"))?;
        match journal.load(task.id, task.now.round)? {
            Some(sealed) => {
                println!("sealed    round {}: model {} at {}", sealed.round, sealed.model_sha256, sealed.uri)
            }
            None => println!("sealed    nothing for round {}", task.now.round),
        }
    }
    if node.config.role == NodeRole::Validator {
        let journal = Journal::open(node.config.state_dir.join("journal"))?;
        let pending = journal.load(task.id, task.now.round)?;
        println!("journal   {} scores recorded for round {}", pending.len(), task.now.round);
        for entry in pending.values() {
            match &entry.rejected {
                Some(reason) => println!("          submission {}: 0, rejected: {reason}", entry.submission_id),
                None => println!(
                    "          submission {}: {} (baseline {})",
                    entry.submission_id, entry.score, entry.baseline
                ),
            }
        }
    }
    println!("rewards   {} claimable", node.market.claimable(&node.address()).await?);
    Ok(())
}

/// `gpu-worker rewards`: what the account can claim.
pub async fn rewards(config_path: &Path) -> Result<(), NodeError> {
    let node = Node::connect(config::load(config_path)?).await?;
    println!("{}: {} claimable", node.address(), node.market.claimable(&node.address()).await?);
    Ok(())
}

/// `gpu-worker claim`: pays the claimable rewards out in cw20 on the Cosmos chain.
pub async fn claim(config_path: &Path) -> Result<(), NodeError> {
    let node = Node::connect(config::load(config_path)?).await?;
    let amount = node.market.claimable(&node.address()).await?;
    if amount == 0 {
        println!("{}: nothing to claim", node.address());
        return Ok(());
    }
    let outcome = node.market.execute(&node.signer, &ExecuteMsg::Claim {}).await?;
    println!("{}: claimed {amount} (tx {})", node.address(), outcome.txhash);
    Ok(())
}

/// `gpu-worker withdraw`: sends the claimable rewards to an EVM address on Base Sepolia through the
/// bridge (relayers settle the batch; claim there with `arena-relayer claim`).
pub async fn withdraw(config_path: &Path, evm_recipient: &str) -> Result<(), NodeError> {
    let node = Node::connect(config::load(config_path)?).await?;
    let amount = node.market.claimable(&node.address()).await?;
    if amount == 0 {
        println!("{}: nothing to withdraw", node.address());
        return Ok(());
    }
    let msg = ExecuteMsg::WithdrawToEvm { evm_recipient: evm_recipient.to_string() };
    let outcome = node.market.execute(&node.signer, &msg).await?;
    println!("{}: {amount} queued on the bridge for {evm_recipient} (tx {})", node.address(), outcome.txhash);
    Ok(())
}
