//! Sealing the oldest queued withdrawals into a batch with its Merkle root.

use cosmwasm_std::{DepsMut, Empty, Env, HexBinary, Order, Response, StdResult, Storage, Uint128, Uint256};

use arena_types::settlement::evm::to_hex_0x;
use arena_types::settlement::{MerkleTree, WithdrawalLeaf};

use crate::error::ContractError;
use crate::msg::{BatchPolicy, BatchStatus, MAX_BATCH_TOTAL};
use crate::state::{Batch, Leaf, Outbox, Withdrawal, BATCHES, BATCHES_BY_STATUS, CONFIG, LEAVES, OUTBOX, QUEUE};

/// Whether a batch may be sealed at `height`: `Ok` when either limit of the policy is reached.
pub(crate) fn check_sealable(
    policy: &BatchPolicy,
    outbox: &Outbox,
    oldest: Option<&Withdrawal>,
    height: u64,
) -> Result<(), ContractError> {
    let Some(oldest) = oldest else {
        return Err(ContractError::NothingQueued {});
    };
    let ready_at_height = oldest.queued_height.saturating_add(policy.max_age_blocks);
    if outbox.queued_count >= u64::from(policy.max_leaves) || height >= ready_at_height {
        return Ok(());
    }
    Err(ContractError::NotReady {
        queued: outbox.queued_count,
        max_leaves: policy.max_leaves,
        oldest_height: oldest.queued_height,
        ready_at_height,
    })
}

/// The longest prefix of `queued` whose total is at most [`MAX_BATCH_TOTAL`], the most the
/// settlement contract can post. First in first out: a withdrawal that does not fit ends the
/// batch (later, smaller ones wait behind it) and opens the next one. Every queued withdrawal is
/// at most the cap (`execute_withdraw` refuses larger ones), so the prefix is never empty.
pub(crate) fn within_total_cap(mut queued: Vec<(u64, Withdrawal)>) -> Vec<(u64, Withdrawal)> {
    let mut total = Uint128::zero();
    let fits = queued
        .iter()
        .take_while(|(_, w)| match total.checked_add(w.amount) {
            Ok(sum) if sum <= MAX_BATCH_TOTAL => {
                total = sum;
                true
            }
            _ => false,
        })
        .count();
    queued.truncate(fits);
    queued
}

pub(crate) fn oldest_queued(storage: &dyn Storage) -> StdResult<Option<Withdrawal>> {
    QUEUE.range(storage, None, None, Order::Ascending).next().transpose().map(|entry| entry.map(|(_, w)| w))
}

pub fn execute_seal_batch(deps: DepsMut, env: Env) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let mut outbox = OUTBOX.load(deps.storage)?;
    let oldest = oldest_queued(deps.storage)?;
    check_sealable(&config.batch_policy, &outbox, oldest.as_ref(), env.block.height)?;

    // At most one batch's worth is read: the gas of a seal is bounded by max_leaves.
    let candidates: Vec<(u64, Withdrawal)> = QUEUE
        .range(deps.storage, None, None, Order::Ascending)
        .take(config.batch_policy.max_leaves as usize)
        .collect::<StdResult<_>>()?;
    let taken = within_total_cap(candidates);
    let batch_id = outbox.next_batch_id;
    let mut total = Uint128::zero();
    let mut leaves = Vec::with_capacity(taken.len());
    for (index, (withdrawal_id, w)) in taken.iter().enumerate() {
        let index = index as u32;
        total = total.checked_add(w.amount)?;
        leaves.push(WithdrawalLeaf { batch_id, index, recipient: w.recipient, amount: Uint256::from(w.amount) });
        LEAVES.save(
            deps.storage,
            (batch_id, index),
            &Leaf { withdrawal_id: *withdrawal_id, sender: w.sender.clone(), recipient: w.recipient, amount: w.amount },
        )?;
        QUEUE.remove(deps.storage, *withdrawal_id);
    }
    let root = MerkleTree::of(&leaves)?.root();
    let count = leaves.len() as u32;
    let batch = Batch {
        root: HexBinary::from(root.as_slice()),
        total,
        count,
        sealed_height: env.block.height,
        status: BatchStatus::Sealed,
        evm_tx_hash: None,
        confirmed_by: None,
    };
    BATCHES.save(deps.storage, batch_id, &batch)?;
    BATCHES_BY_STATUS.save(deps.storage, (BatchStatus::Sealed.as_str(), batch_id), &Empty {})?;
    outbox.next_batch_id += 1;
    outbox.queued_count -= u64::from(count);
    outbox.queued_amount = outbox.queued_amount.checked_sub(total)?;
    outbox.sealed_amount = outbox.sealed_amount.checked_add(total)?;
    OUTBOX.save(deps.storage, &outbox)?;

    let first_id = taken.first().map(|(id, _)| *id).unwrap_or_default();
    let last_id = taken.last().map(|(id, _)| *id).unwrap_or_default();
    Ok(Response::new()
        .add_attribute("action", "seal_batch")
        .add_attribute("batch_id", batch_id.to_string())
        .add_attribute("root", to_hex_0x(&root))
        .add_attribute("total", total)
        .add_attribute("count", count.to_string())
        .add_attribute("first_withdrawal_id", first_id.to_string())
        .add_attribute("last_withdrawal_id", last_id.to_string())
        .add_attribute("queued_left", outbox.queued_count.to_string()))
}
