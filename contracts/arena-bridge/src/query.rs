//! Every query, list queries paginated.

use cosmwasm_std::{Deps, Env, Order, StdResult, Storage, Uint256};
use cw_storage_plus::Bound;

use arena_types::settlement::eip712::{BatchSource, SettlementDomain};
use arena_types::settlement::evm::to_hex_0x;
use arena_types::settlement::{batch_digest, EvmAddress, MerkleTree, WithdrawalLeaf};

use crate::attest::{count_attestations, load_batch};
use crate::error::ContractError;
use crate::msg::{
    AttestationResponse, AttestationsResponse, Attester, BatchResponse, BatchStatus, BatchesResponse, ConfigResponse,
    ConfirmationResponse, LeafResponse, LeavesResponse, OutboxResponse, ProofResponse, WithdrawalResponse,
    WithdrawalsResponse, DEFAULT_LIMIT, MAX_LIMIT,
};
use crate::seal::{check_sealable, oldest_queued};
use crate::state::{
    source, AttesterSet, Batch, Leaf, ATTESTATIONS, ATTESTERS, BATCHES, BATCHES_BY_STATUS, CONFIG, CONFIRMATIONS,
    LEAVES, OUTBOX, QUEUE,
};

pub(crate) fn page_size(limit: Option<u32>) -> usize {
    limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as usize
}

pub fn query_config(deps: Deps, env: Env) -> Result<ConfigResponse, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let set = ATTESTERS.load(deps.storage)?;
    let source = source(&env);
    Ok(ConfigResponse {
        domain_separator: config.domain().map(|d| to_hex_0x(&d.separator())),
        source_chain_id: env.block.chain_id,
        source_chain: to_hex_0x(&source.chain),
        source_bridge: to_hex_0x(&source.bridge),
        admin: config.admin,
        token: config.token,
        attesters: set
            .attesters
            .into_iter()
            .map(|a| Attester { evm_address: a.evm_address.to_string(), operator: a.operator.into_string() })
            .collect(),
        threshold: set.threshold,
        evm_chain_id: config.evm_chain_id,
        evm_settlement: config.evm_settlement.map(|a| a.to_string()),
        batch_policy: config.batch_policy,
        paused: config.paused,
    })
}

pub fn query_outbox(deps: Deps, env: Env) -> Result<OutboxResponse, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let outbox = OUTBOX.load(deps.storage)?;
    let oldest = oldest_queued(deps.storage)?;
    let sealable =
        !config.paused && check_sealable(&config.batch_policy, &outbox, oldest.as_ref(), env.block.height).is_ok();
    Ok(OutboxResponse {
        queued_count: outbox.queued_count,
        queued_amount: outbox.queued_amount,
        oldest_queued_height: oldest.map(|w| w.queued_height),
        sealable,
        sealed_amount: outbox.sealed_amount,
        next_batch_id: outbox.next_batch_id,
    })
}

pub fn query_pending_withdrawals(
    deps: Deps,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<WithdrawalsResponse, ContractError> {
    let withdrawals = QUEUE
        .range(deps.storage, start_after.map(Bound::exclusive), None, Order::Ascending)
        .take(page_size(limit))
        .map(|entry| {
            entry.map(|(id, w)| WithdrawalResponse {
                id,
                sender: w.sender,
                evm_recipient: w.recipient.to_string(),
                amount: w.amount,
                queued_height: w.queued_height,
            })
        })
        .collect::<StdResult<_>>()?;
    Ok(WithdrawalsResponse { withdrawals })
}

pub(crate) fn batch_response(
    storage: &dyn Storage,
    domain: Option<SettlementDomain>,
    source: BatchSource,
    set: &AttesterSet,
    batch_id: u64,
    batch: Batch,
) -> StdResult<BatchResponse> {
    let digest = domain.map(|d| batch_digest(&d, &batch.header(batch_id, source)));
    let confirmations = CONFIRMATIONS
        .prefix(batch_id)
        .range(storage, None, None, Order::Ascending)
        .map(|entry| entry.map(|(operator, h)| ConfirmationResponse { operator, evm_tx_hash: to_hex_0x(&h) }))
        .collect::<StdResult<_>>()?;
    let attestation_count = match &digest {
        Some(digest) => count_attestations(storage, batch_id, set, digest)?,
        None => 0,
    };
    Ok(BatchResponse {
        batch_id,
        status: batch.status,
        root: to_hex_0x(&batch.root),
        total: batch.total,
        count: batch.count,
        sealed_height: batch.sealed_height,
        digest: digest.map(|d| to_hex_0x(&d)),
        attestation_count,
        evm_tx_hash: batch.evm_tx_hash.map(|h| to_hex_0x(&h)),
        confirmed_by: batch.confirmed_by,
        confirmations,
    })
}

pub fn query_batch(deps: Deps, env: Env, batch_id: u64) -> Result<BatchResponse, ContractError> {
    let domain = CONFIG.load(deps.storage)?.domain();
    let set = ATTESTERS.load(deps.storage)?;
    let batch = load_batch(deps.storage, batch_id)?;
    Ok(batch_response(deps.storage, domain, source(&env), &set, batch_id, batch)?)
}

pub fn query_batches(
    deps: Deps,
    env: Env,
    status: Option<BatchStatus>,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<BatchesResponse, ContractError> {
    let domain = CONFIG.load(deps.storage)?.domain();
    let set = ATTESTERS.load(deps.storage)?;
    let start = start_after.map(Bound::exclusive);
    let ids: Vec<u64> = match status {
        Some(status) => BATCHES_BY_STATUS
            .prefix(status.as_str())
            .keys(deps.storage, start, None, Order::Ascending)
            .take(page_size(limit))
            .collect::<StdResult<_>>()?,
        None => BATCHES
            .keys(deps.storage, start, None, Order::Ascending)
            .take(page_size(limit))
            .collect::<StdResult<_>>()?,
    };
    let batches = ids
        .into_iter()
        .map(|id| {
            let batch = BATCHES.load(deps.storage, id)?;
            batch_response(deps.storage, domain, source(&env), &set, id, batch)
        })
        .collect::<StdResult<_>>()?;
    Ok(BatchesResponse { batches })
}

pub(crate) fn leaf_response(batch_id: u64, index: u32, leaf: Leaf) -> LeafResponse {
    LeafResponse {
        batch_id,
        index,
        evm_recipient: leaf.recipient.to_string(),
        amount: leaf.amount,
        withdrawal_id: leaf.withdrawal_id,
        sender: leaf.sender,
    }
}

pub fn query_leaves(
    deps: Deps,
    batch_id: u64,
    start_after: Option<u32>,
    limit: Option<u32>,
) -> Result<LeavesResponse, ContractError> {
    load_batch(deps.storage, batch_id)?;
    let leaves = LEAVES
        .prefix(batch_id)
        .range(deps.storage, start_after.map(Bound::exclusive), None, Order::Ascending)
        .take(page_size(limit))
        .map(|entry| entry.map(|(index, leaf)| leaf_response(batch_id, index, leaf)))
        .collect::<StdResult<_>>()?;
    Ok(LeavesResponse { leaves })
}

pub fn query_attestations(
    deps: Deps,
    batch_id: u64,
    start_after: Option<String>,
    limit: Option<u32>,
) -> Result<AttestationsResponse, ContractError> {
    load_batch(deps.storage, batch_id)?;
    let start = start_after.as_deref().map(EvmAddress::parse).transpose()?;
    let attestations = ATTESTATIONS
        .prefix(batch_id)
        .range(deps.storage, start.as_ref().map(|a| Bound::exclusive(a.as_bytes().as_slice())), None, Order::Ascending)
        .take(page_size(limit))
        .map(|entry| {
            entry.map(|(signer, a)| {
                let mut address = [0u8; 20];
                address.copy_from_slice(&signer);
                AttestationResponse {
                    signer: EvmAddress(address).to_string(),
                    signature: to_hex_0x(&a.signature),
                    digest: to_hex_0x(&a.digest),
                    height: a.height,
                }
            })
        })
        .collect::<StdResult<_>>()?;
    Ok(AttestationsResponse { attestations })
}

/// Rebuilds the batch's tree (at most `max_leaves` leaves) and answers one leaf's proof.
pub fn query_proof(deps: Deps, batch_id: u64, index: u32) -> Result<ProofResponse, ContractError> {
    let batch = load_batch(deps.storage, batch_id)?;
    let stored: Vec<(u32, Leaf)> =
        LEAVES.prefix(batch_id).range(deps.storage, None, None, Order::Ascending).collect::<StdResult<_>>()?;
    let values: Vec<WithdrawalLeaf> = stored
        .iter()
        .map(|(i, leaf)| WithdrawalLeaf {
            batch_id,
            index: *i,
            recipient: leaf.recipient,
            amount: Uint256::from(leaf.amount),
        })
        .collect();
    let tree = MerkleTree::of(&values)?;
    let proof = tree.proof(index as usize)?;
    let leaf_hash = tree.leaf_hash(index as usize)?;
    let (_, leaf) = stored[index as usize].clone();
    debug_assert_eq!(tree.root().as_slice(), batch.root.as_slice());
    Ok(ProofResponse {
        leaf: leaf_response(batch_id, index, leaf),
        leaf_hash: to_hex_0x(&leaf_hash),
        proof: proof.iter().map(|p| to_hex_0x(p)).collect(),
        root: to_hex_0x(&batch.root),
    })
}
