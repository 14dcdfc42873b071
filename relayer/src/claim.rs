//! Claiming on the EVM side: the proofs come from a relayer's `GetClaimProof`, the claim
//! transactions go straight to the settlement contract (anyone may send a claim; the tokens go to
//! the leaf's recipient).

use alloy::primitives::{Address, B256, U256};
use arena_evm::{ClaimLeaf, EvmClient, TxOutcome};

use crate::error::RelayerError;
use crate::proto::relayer_client::RelayerClient;
use crate::proto::{GetClaimProofRequest, GetClaimProofResponse};

/// What a claim did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimReport {
    /// Leaves claimed now: index, amount, transaction.
    pub claimed: Vec<(u32, U256, TxOutcome)>,
    /// Leaves that were claimed before.
    pub already_claimed: Vec<u32>,
    /// The recipient's token balance afterwards.
    pub balance: U256,
}

/// Connects to the relayer's gRPC endpoint.
pub async fn connect(relayer_url: &str) -> Result<RelayerClient<tonic::transport::Channel>, RelayerError> {
    RelayerClient::connect(relayer_url.to_string())
        .await
        .map_err(|e| RelayerError::Rpc(format!("cannot reach the relayer at {relayer_url}: {e}")))
}

/// Fetches the leaves and proofs of `recipient` in `batch_id`.
pub async fn fetch_proof(
    relayer_url: &str,
    batch_id: u64,
    recipient: Address,
) -> Result<GetClaimProofResponse, RelayerError> {
    let mut client = connect(relayer_url).await?;
    let response = client
        .get_claim_proof(GetClaimProofRequest { batch_id, recipient: recipient.to_checksum(None) })
        .await
        .map_err(|s| RelayerError::Rpc(format!("GetClaimProof({batch_id}, {recipient}): {}", s.message())))?;
    Ok(response.into_inner())
}

/// Claims every unclaimed leaf of `recipient` in `batch_id` with proofs from the relayer, sending
/// from `evm`'s signer.
pub async fn claim(
    relayer_url: &str,
    batch_id: u64,
    recipient: Address,
    evm: &EvmClient,
) -> Result<ClaimReport, RelayerError> {
    let proof = fetch_proof(relayer_url, batch_id, recipient).await?;
    if !proof.posted {
        return Err(RelayerError::Rpc(format!(
            "batch {batch_id} is not on the EVM side yet; claim once the relayers posted it (`arena-relayer status`)"
        )));
    }
    if proof.leaves.is_empty() {
        return Err(RelayerError::Rpc(format!("batch {batch_id} holds nothing for {recipient}")));
    }
    let mut report = ClaimReport { claimed: Vec::new(), already_claimed: Vec::new(), balance: U256::ZERO };
    for leaf in &proof.leaves {
        if evm.is_claimed(batch_id, leaf.index).await? {
            report.already_claimed.push(leaf.index);
            continue;
        }
        let amount: U256 = leaf
            .amount
            .parse()
            .map_err(|e| RelayerError::Rpc(format!("relayer sent amount {:?}: {e}", leaf.amount)))?;
        let nodes = leaf
            .proof
            .iter()
            .map(|p| p.parse::<B256>().map_err(|e| RelayerError::Rpc(format!("relayer sent proof node {p:?}: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let tx = evm.claim(&ClaimLeaf { batch_id, index: leaf.index, recipient, amount }, &nodes).await?;
        report.claimed.push((leaf.index, amount, tx));
    }
    report.balance = evm.balance_of(recipient).await?;
    Ok(report)
}
