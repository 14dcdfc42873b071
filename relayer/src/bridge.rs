//! The arena-bridge contract as the relayer reads and drives it: paginated queries over the
//! contract's own message types, and the leaves checked against the batch they belong to.

use arena_client::{Client, ClientError, Signer, TxOutcome};
use arena_types::settlement::evm::to_hex_0x;
use arena_types::settlement::merkle::{MerkleTree, WithdrawalLeaf};
use arena_types::settlement::msg::{
    AttestationResponse, AttestationsResponse, BatchResponse, BatchStatus, BatchesResponse, ConfigResponse, ExecuteMsg,
    LeafResponse, LeavesResponse, OutboxResponse, QueryMsg, MAX_LIMIT,
};

use crate::error::RelayerError;

/// The bridge at `address` on the chain `client` talks to.
#[derive(Clone, Debug)]
pub struct Bridge {
    client: Client,
    address: String,
}

/// A batch whose leaves were fetched and whose root, count and total were recomputed from them.
#[derive(Clone, Debug)]
pub struct VerifiedBatch {
    /// The leaves in index order.
    pub leaves: Vec<WithdrawalLeaf>,
    /// The tree they make (its root equals the bridge's).
    pub tree: MerkleTree,
}

impl Bridge {
    /// The bridge at `address`.
    pub fn new(client: Client, address: impl Into<String>) -> Self {
        Self { client, address: address.into() }
    }

    /// The chain client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The contract address.
    pub fn address(&self) -> &str {
        &self.address
    }

    async fn query<R: serde::de::DeserializeOwned>(&self, msg: &QueryMsg) -> Result<R, ClientError> {
        self.client.query_contract(&self.address, msg).await
    }

    /// The configuration, attester set included.
    pub async fn config(&self) -> Result<ConfigResponse, ClientError> {
        self.query(&QueryMsg::Config {}).await
    }

    /// The outbox: queue, sealability, next batch id.
    pub async fn outbox(&self) -> Result<OutboxResponse, ClientError> {
        self.query(&QueryMsg::Outbox {}).await
    }

    /// One batch.
    pub async fn batch(&self, batch_id: u64) -> Result<BatchResponse, ClientError> {
        self.query(&QueryMsg::Batch { batch_id }).await
    }

    /// One page of batches.
    pub async fn batches_page(
        &self,
        status: Option<BatchStatus>,
        start_after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<BatchResponse>, ClientError> {
        let page: BatchesResponse = self.query(&QueryMsg::Batches { status, start_after, limit: Some(limit) }).await?;
        Ok(page.batches)
    }

    /// Every batch in `status`, in id order, a page of `page_size` at a time (at most the
    /// bridge's MAX_LIMIT: it answers no more, and a shorter page than asked would end the walk).
    pub async fn all_batches(&self, status: BatchStatus, page_size: u32) -> Result<Vec<BatchResponse>, ClientError> {
        let page_size = page_size.clamp(1, MAX_LIMIT);
        let mut all = Vec::new();
        loop {
            let page =
                self.batches_page(Some(status), all.last().map(|b: &BatchResponse| b.batch_id), page_size).await?;
            let full = page.len() as u32 == page_size;
            all.extend(page);
            if !full {
                return Ok(all);
            }
        }
    }

    /// Every attestation recorded for `batch_id`, whatever digest it signs.
    pub async fn attestations(&self, batch_id: u64) -> Result<Vec<AttestationResponse>, ClientError> {
        let mut all: Vec<AttestationResponse> = Vec::new();
        loop {
            let start_after = all.last().map(|a| a.signer.clone());
            let page: AttestationsResponse =
                self.query(&QueryMsg::Attestations { batch_id, start_after, limit: Some(MAX_LIMIT) }).await?;
            let full = page.attestations.len() as u32 == MAX_LIMIT;
            all.extend(page.attestations);
            if !full {
                return Ok(all);
            }
        }
    }

    /// Fetches every leaf of `batch` and recomputes its root, count and total: the relayer's own
    /// check before it signs anything or serves a proof.
    pub async fn verified_leaves(&self, batch: &BatchResponse) -> Result<VerifiedBatch, RelayerError> {
        let batch_id = batch.batch_id;
        let mut responses = Vec::with_capacity(batch.count as usize);
        loop {
            let start_after = responses.last().map(|l: &LeafResponse| l.index);
            let page: LeavesResponse =
                self.query(&QueryMsg::Leaves { batch_id, start_after, limit: Some(MAX_LIMIT) }).await?;
            let full = page.leaves.len() as u32 == MAX_LIMIT;
            responses.extend(page.leaves);
            if !full {
                break;
            }
        }
        check_leaves(batch, &responses)
    }

    /// Sends `msg` to the bridge from `signer`.
    pub async fn execute(&self, signer: &Signer, msg: &ExecuteMsg) -> Result<TxOutcome, ClientError> {
        self.client.execute(signer, &self.address, msg, vec![]).await
    }
}

/// Checks the leaves the bridge served for `batch`: as many as its count, numbered 0.. in order,
/// summing to its total, and hashing to its root. Only then is the batch signed or a proof served.
pub fn check_leaves(batch: &BatchResponse, responses: &[LeafResponse]) -> Result<VerifiedBatch, RelayerError> {
    let batch_id = batch.batch_id;
    let inconsistent = |reason: String| RelayerError::InconsistentBatch { batch_id, reason };
    if responses.len() != batch.count as usize {
        return Err(inconsistent(format!("{} leaves served, count {}", responses.len(), batch.count)));
    }
    let mut leaves = Vec::with_capacity(responses.len());
    let mut total: u128 = 0;
    for (position, response) in responses.iter().enumerate() {
        if response.batch_id != batch_id || response.index as usize != position {
            return Err(inconsistent(format!(
                "leaf at position {position} is ({}, {})",
                response.batch_id, response.index
            )));
        }
        total =
            total.checked_add(response.amount.u128()).ok_or_else(|| inconsistent("leaf amounts overflow".into()))?;
        leaves.push(response.to_leaf()?);
    }
    if total != batch.total.u128() {
        return Err(inconsistent(format!("leaves sum to {total}, total {}", batch.total)));
    }
    let tree = MerkleTree::of(&leaves)?;
    let computed = to_hex_0x(&tree.root());
    if !computed.eq_ignore_ascii_case(&batch.root) {
        return Err(RelayerError::RootMismatch { batch_id, bridge: batch.root.clone(), computed });
    }
    Ok(VerifiedBatch { leaves, tree })
}

#[cfg(test)]
mod tests {
    use arena_types::settlement::msg::BatchStatus;
    use cosmwasm_std::{Addr, Uint128};

    use super::*;

    const RECIPIENTS: [&str; 2] =
        ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"];

    fn leaves(batch_id: u64) -> Vec<LeafResponse> {
        (0..5u32)
            .map(|index| LeafResponse {
                batch_id,
                index,
                evm_recipient: RECIPIENTS[index as usize % 2].to_string(),
                amount: Uint128::new(1_000 + u128::from(index)),
                withdrawal_id: u64::from(index),
                sender: Addr::unchecked("inj1sender"),
            })
            .collect()
    }

    /// The batch as an honest bridge answers it for `leaves`.
    fn batch_of(leaves: &[LeafResponse]) -> BatchResponse {
        let values: Vec<WithdrawalLeaf> = leaves.iter().map(|l| l.to_leaf().unwrap()).collect();
        BatchResponse {
            batch_id: leaves[0].batch_id,
            status: BatchStatus::Sealed,
            root: to_hex_0x(&MerkleTree::of(&values).unwrap().root()),
            total: leaves.iter().map(|l| l.amount).sum(),
            count: leaves.len() as u32,
            sealed_height: 10,
            digest: None,
            attestation_count: 0,
            evm_tx_hash: None,
            confirmed_by: None,
            confirmations: vec![],
        }
    }

    #[test]
    fn honest_leaves_verify_and_give_the_bridges_root() {
        let served = leaves(3);
        let batch = batch_of(&served);
        let verified = check_leaves(&batch, &served).unwrap();
        assert_eq!(to_hex_0x(&verified.tree.root()), batch.root);
        assert_eq!(verified.leaves.len(), 5);
    }

    #[test]
    fn a_root_that_is_not_the_leaves_root_is_refused() {
        let served = leaves(3);
        let mut batch = batch_of(&served);
        // The bridge claims a root over a different recipient for leaf 1: never signed.
        let mut other = served.clone();
        other[1].evm_recipient = RECIPIENTS[0].to_string();
        batch.root = batch_of(&other).root;
        assert!(matches!(check_leaves(&batch, &served), Err(RelayerError::RootMismatch { batch_id: 3, .. })));
    }

    #[test]
    fn leaves_that_do_not_add_up_are_refused() {
        let served = leaves(3);
        let batch = batch_of(&served);
        let mut tampered = served.clone();
        tampered[2].amount = Uint128::new(9_999);
        assert!(matches!(check_leaves(&batch, &tampered), Err(RelayerError::InconsistentBatch { .. })));
        assert!(matches!(check_leaves(&batch, &served[..4]), Err(RelayerError::InconsistentBatch { .. })));
        let mut reordered = served.clone();
        reordered.swap(0, 1);
        assert!(matches!(check_leaves(&batch, &reordered), Err(RelayerError::InconsistentBatch { .. })));
        let mut foreign = served;
        foreign[4].batch_id = 4;
        assert!(matches!(check_leaves(&batch, &foreign), Err(RelayerError::InconsistentBatch { .. })));
    }
}
