//! The demo's settlement: every participant withdraws its rewards to the EVM side (or claims them
//! on the Cosmos side below the market's smallest EVM withdrawal), the relayers settle the
//! batches, and every leaf is claimed on the EVM node with its Merkle proof.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use arena_client::{Client, MarketClient, Signer};
use arena_types::market::msg::{ConfigResponse, ExecuteMsg, QueryMsg};
use arena_types::settlement::msg as bridge;

use super::cast::paid_participants;
use super::report::{BatchReport, ClaimReport};
use super::say;
use crate::error::TestnetError;
use crate::{accounts, deploy};

/// The EVM address a participant withdraws to: derived from its name, so the demo needs no keys.
pub fn evm_recipient(name: &str) -> Address {
    Address::from_slice(&alloy::primitives::keccak256(format!("arena-demo:{name}").as_bytes())[12..])
}

/// Every participant with rewards withdraws them to its EVM address, or claims them on the Cosmos
/// side when they are below the market's smallest EVM withdrawal; returns name -> (address,
/// amount) of the withdrawals, and the total claimed on the Cosmos side.
pub(super) async fn withdraw_all(
    market: &MarketClient,
) -> Result<(BTreeMap<String, (Address, u128)>, u128), TestnetError> {
    let min = market.query::<ConfigResponse>(&QueryMsg::Config {}).await?.min_evm_withdrawal.u128();
    let mut out = BTreeMap::new();
    let mut claimed_on_cosmos = 0;
    for (name, account) in paid_participants() {
        let signer: Signer = accounts::cosmos(account, "inj")?;
        let amount = market.claimable(signer.address().as_ref()).await?;
        if amount == 0 {
            continue;
        }
        if amount < min {
            market.execute(&signer, &ExecuteMsg::Claim {}).await?;
            say(&format!("{name} claims {amount} micro-ARENA on the Cosmos side (below the {min} EVM minimum)"));
            claimed_on_cosmos += amount;
            continue;
        }
        let recipient = evm_recipient(name);
        market.execute(&signer, &ExecuteMsg::WithdrawToEvm { evm_recipient: recipient.to_checksum(None) }).await?;
        say(&format!("{name} withdraws {amount} micro-ARENA to {recipient} on the EVM side"));
        out.insert(name.to_string(), (recipient, amount));
    }
    Ok((out, claimed_on_cosmos))
}

/// Waits until the relayers have posted and confirmed batches holding `total`.
pub(super) async fn wait_for_settlement(
    client: &Client,
    bridge_address: &str,
    total: u128,
) -> Result<Vec<BatchReport>, TestnetError> {
    let started = Instant::now();
    loop {
        let all: bridge::BatchesResponse = client
            .query_contract(
                bridge_address,
                &bridge::QueryMsg::Batches { status: None, start_after: None, limit: Some(100) },
            )
            .await?;
        let confirmed: u128 =
            all.batches.iter().filter(|b| b.status == bridge::BatchStatus::Confirmed).map(|b| b.total.u128()).sum();
        if confirmed >= total && total > 0 {
            say(&format!("{} batches sealed, attested, posted on the EVM node and confirmed", all.batches.len()));
            return Ok(all
                .batches
                .into_iter()
                .map(|b| BatchReport {
                    batch_id: b.batch_id,
                    leaves: b.count,
                    total: b.total.u128(),
                    root: b.root,
                    evm_tx: b.evm_tx_hash,
                })
                .collect());
        }
        if started.elapsed() > Duration::from_secs(180) {
            return Err(TestnetError::NotReady {
                what: "settlement of the withdrawals",
                secs: 180,
                log: PathBuf::from("relayer-*.log"),
            });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Claims every leaf on the EVM side (anyone may send a claim; the deployer pays the gas) and
/// reads each recipient's ERC-20 balance.
pub(super) async fn claim_all(
    client: &Client,
    bridge_address: &str,
    evm_rpc: &str,
    evm: &BTreeMap<String, String>,
    batches: &[BatchReport],
    recipients: &BTreeMap<String, (Address, u128)>,
) -> Result<Vec<ClaimReport>, TestnetError> {
    use arena_evm::{ClaimLeaf, EvmClient, EvmConfig};
    let settlement = &evm[deploy::SETTLEMENT];
    let settlement: Address = settlement
        .parse()
        .map_err(TestnetError::evm_address(format!("the manifest's {}", deploy::SETTLEMENT), settlement))?;
    let payer = accounts::EVM_KEYS[0].parse().expect("anvil key 0");
    let evm_client =
        EvmClient::connect(EvmConfig::new(evm_rpc, crate::evm::BASE_SEPOLIA_CHAIN_ID), payer, settlement).await?;
    let mut claim_txs: BTreeMap<Address, String> = BTreeMap::new();
    for batch in batches {
        for index in 0..batch.leaves {
            let p: bridge::ProofResponse = client
                .query_contract(bridge_address, &bridge::QueryMsg::Proof { batch_id: batch.batch_id, index })
                .await?;
            let recipient: Address = p
                .leaf
                .evm_recipient
                .parse()
                .map_err(TestnetError::evm_address("the bridge's leaf recipient", &p.leaf.evm_recipient))?;
            let leaf =
                ClaimLeaf { batch_id: batch.batch_id, index, recipient, amount: U256::from(p.leaf.amount.u128()) };
            let proof: Vec<B256> = p.proof.iter().map(|h| h.parse().expect("the bridge answers 32-byte hex")).collect();
            let outcome = evm_client.claim(&leaf, &proof).await?;
            claim_txs.insert(recipient, outcome.tx_hash.to_string());
        }
    }
    let mut claims = Vec::new();
    for (name, (address, withdrawn)) in recipients {
        let balance = evm_client.balance_of(*address).await?;
        claims.push(ClaimReport {
            name: name.clone(),
            evm_address: address.to_checksum(None),
            withdrawn: *withdrawn,
            claim_tx: claim_txs.get(address).cloned().unwrap_or_default(),
            evm_balance: balance.try_into().unwrap_or(u128::MAX),
        });
    }
    Ok(claims)
}
