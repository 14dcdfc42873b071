#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    from_json, to_json_binary, Addr, Binary, Deps, DepsMut, Empty, Env, HexBinary, MessageInfo, Order, Response,
    StdResult, Storage, Uint128, Uint256,
};
use cw20::Cw20ReceiveMsg;
use cw_storage_plus::Bound;

use arena_types::migrate::migrate_contract;
use arena_types::settlement::eip712::{BatchSource, SettlementDomain};
use arena_types::settlement::evm::{parse_hex_array, to_hex_0x};
use arena_types::settlement::{
    batch_digest, evm_address_from_pubkey, Bytes32, EvmAddress, EvmSignature, MerkleTree, WithdrawalLeaf,
};

use crate::error::ContractError;
use crate::msg::{
    AttestationResponse, AttestationsResponse, Attester, BatchPolicy, BatchResponse, BatchStatus, BatchesResponse,
    ConfigResponse, ConfirmationResponse, ExecuteMsg, InstantiateMsg, LeafResponse, LeavesResponse, MigrateMsg,
    OutboxResponse, ProofResponse, QueryMsg, ReceiveMsg, WithdrawalResponse, WithdrawalsResponse, DEFAULT_LIMIT,
    MAX_ATTESTERS, MAX_BATCH_LEAVES, MAX_BATCH_TOTAL, MAX_LIMIT,
};
use crate::state::{
    source, Attestation, AttesterEntry, AttesterSet, Batch, Config, Leaf, Outbox, Withdrawal, ATTESTATIONS, ATTESTERS,
    BATCHES, BATCHES_BY_STATUS, CONFIG, CONFIRMATIONS, FIRST_BATCH_ID, LEAVES, OUTBOX, QUEUE,
};

pub const CONTRACT_NAME: &str = "crates.io:arena-bridge";
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    _env: Env,
    _info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    if msg.evm_chain_id == 0 {
        return Err(ContractError::InvalidChainId {});
    }
    validate_policy(&msg.batch_policy)?;
    let config = Config {
        admin: deps.api.addr_validate(&msg.admin)?,
        token: deps.api.addr_validate(&msg.token)?,
        evm_chain_id: msg.evm_chain_id,
        evm_settlement: msg.evm_settlement.as_deref().map(parse_settlement_address).transpose()?,
        batch_policy: msg.batch_policy,
        paused: false,
    };
    let set = validate_attesters(deps.as_ref(), &msg.attesters, msg.threshold)?;
    CONFIG.save(deps.storage, &config)?;
    ATTESTERS.save(deps.storage, &set)?;
    OUTBOX.save(deps.storage, &Outbox { next_batch_id: FIRST_BATCH_ID, ..Outbox::default() })?;
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("admin", &config.admin)
        .add_attribute("token", &config.token)
        .add_attribute("evm_chain_id", config.evm_chain_id.to_string())
        .add_attribute("attesters", set.attesters.len().to_string())
        .add_attribute("threshold", set.threshold.to_string()))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(deps: DepsMut, env: Env, info: MessageInfo, msg: ExecuteMsg) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::Receive(wrapper) => execute_receive(deps, env, info, wrapper),
        ExecuteMsg::SealBatch {} => execute_seal_batch(deps, env),
        ExecuteMsg::Attest { batch_id, signature } => execute_attest(deps, env, batch_id, signature),
        ExecuteMsg::Confirm { batch_id, evm_tx_hash } => execute_confirm(deps, env, info, batch_id, evm_tx_hash),
        ExecuteMsg::UpdateAttesters { attesters, threshold } => {
            execute_update_attesters(deps, env, info, attesters, threshold)
        }
        ExecuteMsg::SetEvmSettlement { address } => execute_set_evm_settlement(deps, info, address),
        ExecuteMsg::UpdateBatchPolicy { batch_policy } => execute_update_batch_policy(deps, info, batch_policy),
        ExecuteMsg::UpdateAdmin { admin } => execute_update_admin(deps, info, admin),
        ExecuteMsg::SetPaused { paused } => execute_set_paused(deps, info, paused),
    }
}

pub fn execute_receive(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    wrapper: Cw20ReceiveMsg,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    if config.paused {
        return Err(ContractError::Paused {});
    }
    if info.sender != config.token {
        return Err(ContractError::WrongToken { received: info.sender, accepted: config.token });
    }
    if wrapper.amount.is_zero() {
        return Err(ContractError::ZeroAmount {});
    }
    let sender = deps.api.addr_validate(&wrapper.sender)?;
    match from_json(&wrapper.msg)? {
        ReceiveMsg::Withdraw { evm_recipient } => execute_withdraw(deps, env, sender, wrapper.amount, evm_recipient),
    }
}

pub fn execute_withdraw(
    deps: DepsMut,
    env: Env,
    sender: Addr,
    amount: Uint128,
    evm_recipient: String,
) -> Result<Response, ContractError> {
    let recipient = EvmAddress::parse(&evm_recipient)?;
    if recipient == EvmAddress::default() {
        return Err(ContractError::ZeroRecipient {});
    }
    // No batch could ever hold it: it would stay queued and block the queue behind it.
    if amount > MAX_BATCH_TOTAL {
        return Err(ContractError::WithdrawalTooLarge { amount, max: MAX_BATCH_TOTAL });
    }
    let mut outbox = OUTBOX.load(deps.storage)?;
    let id = outbox.next_withdrawal_id;
    QUEUE.save(
        deps.storage,
        id,
        &Withdrawal { sender: sender.clone(), recipient, amount, queued_height: env.block.height },
    )?;
    outbox.next_withdrawal_id += 1;
    outbox.queued_count += 1;
    outbox.queued_amount = outbox.queued_amount.checked_add(amount)?;
    OUTBOX.save(deps.storage, &outbox)?;
    Ok(Response::new()
        .add_attribute("action", "withdraw")
        .add_attribute("withdrawal_id", id.to_string())
        .add_attribute("sender", sender)
        .add_attribute("evm_recipient", recipient.to_string())
        .add_attribute("amount", amount)
        .add_attribute("queued_count", outbox.queued_count.to_string()))
}

/// Whether a batch may be sealed at `height`: `Ok` when either limit of the policy is reached.
fn check_sealable(
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
fn within_total_cap(mut queued: Vec<(u64, Withdrawal)>) -> Vec<(u64, Withdrawal)> {
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

fn oldest_queued(storage: &dyn Storage) -> StdResult<Option<Withdrawal>> {
    QUEUE.range(storage, None, None, Order::Ascending).next().transpose().map(|entry| entry.map(|(_, w)| w))
}

pub fn execute_seal_batch(deps: DepsMut, env: Env) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    if config.paused {
        return Err(ContractError::Paused {});
    }
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

/// Attestations of `batch_id` that count: by a current attester, over `digest`. Reads one record
/// per attester, so it is bounded by the set's size.
fn count_attestations(storage: &dyn Storage, batch_id: u64, set: &AttesterSet, digest: &Bytes32) -> StdResult<u32> {
    let mut count = 0;
    for attester in &set.attesters {
        let key = (batch_id, attester.evm_address.as_bytes().as_slice());
        if let Some(a) = ATTESTATIONS.may_load(storage, key)? {
            if a.digest.as_slice() == digest.as_slice() {
                count += 1;
            }
        }
    }
    Ok(count)
}

fn set_status(storage: &mut dyn Storage, batch_id: u64, batch: &mut Batch, status: BatchStatus) -> StdResult<()> {
    BATCHES_BY_STATUS.remove(storage, (batch.status.as_str(), batch_id));
    BATCHES_BY_STATUS.save(storage, (status.as_str(), batch_id), &Empty {})?;
    batch.status = status;
    Ok(())
}

fn load_batch(storage: &dyn Storage, batch_id: u64) -> Result<Batch, ContractError> {
    BATCHES.may_load(storage, batch_id)?.ok_or(ContractError::UnknownBatch { batch_id })
}

pub fn execute_attest(deps: DepsMut, env: Env, batch_id: u64, signature: String) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    if config.paused {
        return Err(ContractError::Paused {});
    }
    let mut batch = load_batch(deps.storage, batch_id)?;
    if batch.status == BatchStatus::Confirmed {
        return Err(ContractError::BatchConfirmed {
            batch_id,
            evm_tx_hash: batch.evm_tx_hash.map(|h| to_hex_0x(&h)).unwrap_or_default(),
        });
    }
    let domain = config.domain().ok_or(ContractError::SettlementAddressNotSet {})?;
    let digest = batch_digest(&domain, &batch.header(batch_id, source(&env)));
    let signature = EvmSignature::from_hex(&signature)?;
    let pubkey = deps
        .api
        .secp256k1_recover_pubkey(&digest, &signature.rs(), signature.recovery_id)
        .map_err(|e| ContractError::Unrecoverable { batch_id, reason: e.to_string() })?;
    let signer = evm_address_from_pubkey(&pubkey)?;

    let set = ATTESTERS.load(deps.storage)?;
    if !set.contains(&signer) {
        return Err(ContractError::NotAttester { batch_id, signer: signer.to_string(), digest: to_hex_0x(&digest) });
    }
    let key = (batch_id, signer.as_bytes().as_slice());
    if let Some(previous) = ATTESTATIONS.may_load(deps.storage, key)? {
        // A signature over an older digest (the settlement address changed) may be replaced.
        if previous.digest.as_slice() == digest.as_slice() {
            return Err(ContractError::DuplicateAttestation { batch_id, signer: signer.to_string() });
        }
    }
    ATTESTATIONS.save(
        deps.storage,
        key,
        &Attestation {
            signature: HexBinary::from(signature.to_bytes().as_slice()),
            digest: HexBinary::from(digest.as_slice()),
            height: env.block.height,
        },
    )?;
    let count = count_attestations(deps.storage, batch_id, &set, &digest)?;
    if batch.status == BatchStatus::Sealed && count >= set.threshold {
        set_status(deps.storage, batch_id, &mut batch, BatchStatus::Attested)?;
        BATCHES.save(deps.storage, batch_id, &batch)?;
    }
    Ok(Response::new()
        .add_attribute("action", "attest")
        .add_attribute("batch_id", batch_id.to_string())
        .add_attribute("signer", signer.to_string())
        .add_attribute("digest", to_hex_0x(&digest))
        .add_attribute("attestations", count.to_string())
        .add_attribute("threshold", set.threshold.to_string())
        .add_attribute("status", batch.status.as_str()))
}

pub fn execute_confirm(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    batch_id: u64,
    evm_tx_hash: String,
) -> Result<Response, ContractError> {
    let set = ATTESTERS.load(deps.storage)?;
    if !set.is_operator(&info.sender) {
        return Err(ContractError::NotRelayer { sender: info.sender });
    }
    let tx_hash: Bytes32 = parse_hex_array("EVM tx hash", &evm_tx_hash)?;
    let mut batch = load_batch(deps.storage, batch_id)?;
    let response = Response::new()
        .add_attribute("action", "confirm")
        .add_attribute("batch_id", batch_id.to_string())
        .add_attribute("evm_tx_hash", to_hex_0x(&tx_hash));
    match batch.status {
        BatchStatus::Confirmed => {
            let recorded = batch.evm_tx_hash.unwrap_or_default();
            if recorded.as_slice() == tx_hash.as_slice() {
                // A late relayer confirming the same post: nothing changes.
                return Ok(response.add_attribute("already_confirmed", "true"));
            }
            Err(ContractError::ConflictingConfirmation {
                batch_id,
                recorded: to_hex_0x(&recorded),
                given: to_hex_0x(&tx_hash),
            })
        }
        BatchStatus::Sealed => {
            let config = CONFIG.load(deps.storage)?;
            let attestations = match config.domain() {
                Some(domain) => {
                    let digest = batch_digest(&domain, &batch.header(batch_id, source(&env)));
                    count_attestations(deps.storage, batch_id, &set, &digest)?
                }
                None => 0,
            };
            Err(ContractError::NotAttested { batch_id, attestations, threshold: set.threshold })
        }
        BatchStatus::Attested => {
            // The sender's vote; a later vote of the same operator replaces it (it may have seen a
            // post that a reorganisation dropped).
            CONFIRMATIONS.save(deps.storage, (batch_id, &info.sender), &HexBinary::from(tx_hash.as_slice()))?;
            let votes = count_confirmations(deps.storage, batch_id, &set, &tx_hash)?;
            let response = response
                .add_attribute("confirmations", votes.to_string())
                .add_attribute("threshold", set.threshold.to_string())
                .add_attribute("already_confirmed", "false");
            if votes < set.threshold {
                return Ok(response.add_attribute("status", BatchStatus::Attested.as_str()));
            }
            set_status(deps.storage, batch_id, &mut batch, BatchStatus::Confirmed)?;
            batch.evm_tx_hash = Some(HexBinary::from(tx_hash.as_slice()));
            batch.confirmed_by = Some(info.sender.clone());
            BATCHES.save(deps.storage, batch_id, &batch)?;
            Ok(response
                .add_attribute("status", BatchStatus::Confirmed.as_str())
                .add_attribute("confirmed_by", info.sender))
        }
    }
}

/// Distinct operators of the current attester set that voted `tx_hash` for `batch_id`. One
/// operator counts once even if it runs several attester keys: the threshold is of independent
/// relayers. Reads one record per attester, so it is bounded by the set's size.
fn count_confirmations(storage: &dyn Storage, batch_id: u64, set: &AttesterSet, tx_hash: &Bytes32) -> StdResult<u32> {
    let mut operators: Vec<&Addr> = set.attesters.iter().map(|a| &a.operator).collect();
    operators.sort();
    operators.dedup();
    let mut count = 0;
    for operator in operators {
        if CONFIRMATIONS.may_load(storage, (batch_id, operator))?.is_some_and(|h| h.as_slice() == tx_hash.as_slice()) {
            count += 1;
        }
    }
    Ok(count)
}

fn only_admin(config: &Config, sender: &Addr) -> Result<(), ContractError> {
    if *sender != config.admin {
        return Err(ContractError::Unauthorized { sender: sender.clone(), admin: config.admin.clone() });
    }
    Ok(())
}

fn validate_attesters(deps: Deps, attesters: &[Attester], threshold: u32) -> Result<AttesterSet, ContractError> {
    let count = attesters.len() as u32;
    if count > MAX_ATTESTERS {
        return Err(ContractError::TooManyAttesters { count, max: MAX_ATTESTERS });
    }
    if threshold == 0 || threshold > count {
        return Err(ContractError::InvalidThreshold { threshold, attesters: count });
    }
    let mut entries: Vec<AttesterEntry> = Vec::with_capacity(attesters.len());
    for a in attesters {
        let evm_address = EvmAddress::parse(&a.evm_address)?;
        if entries.iter().any(|e| e.evm_address == evm_address) {
            return Err(ContractError::DuplicateAttester { evm_address: evm_address.to_string() });
        }
        entries.push(AttesterEntry { evm_address, operator: deps.api.addr_validate(&a.operator)? });
    }
    Ok(AttesterSet { attesters: entries, threshold })
}

fn validate_policy(policy: &BatchPolicy) -> Result<(), ContractError> {
    if policy.max_leaves == 0 || policy.max_leaves > MAX_BATCH_LEAVES {
        return Err(ContractError::InvalidMaxLeaves { max_leaves: policy.max_leaves, limit: MAX_BATCH_LEAVES });
    }
    Ok(())
}

fn parse_settlement_address(text: &str) -> Result<EvmAddress, ContractError> {
    let address = EvmAddress::parse(text)?;
    if address == EvmAddress::default() {
        return Err(ContractError::ZeroSettlementAddress {});
    }
    Ok(address)
}

/// Replaces the attester set and threshold. A sealed batch whose attestations by the new set
/// already meet the new threshold becomes attested here: otherwise a lowered threshold (or a
/// retired attester) could leave it sealed for good, its signers refused as duplicates and
/// nobody else left to sign. Reads the sealed batches, one attestation per attester each: they
/// are the few sealed since the relayers last attested.
pub fn execute_update_attesters(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    attesters: Vec<Attester>,
    threshold: u32,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    only_admin(&config, &info.sender)?;
    let set = validate_attesters(deps.as_ref(), &attesters, threshold)?;
    ATTESTERS.save(deps.storage, &set)?;
    let mut promoted = Vec::new();
    if let Some(domain) = config.domain() {
        let sealed: Vec<u64> = BATCHES_BY_STATUS
            .prefix(BatchStatus::Sealed.as_str())
            .keys(deps.storage, None, None, Order::Ascending)
            .collect::<StdResult<_>>()?;
        for batch_id in sealed {
            let mut batch = load_batch(deps.storage, batch_id)?;
            let digest = batch_digest(&domain, &batch.header(batch_id, source(&env)));
            if count_attestations(deps.storage, batch_id, &set, &digest)? >= set.threshold {
                set_status(deps.storage, batch_id, &mut batch, BatchStatus::Attested)?;
                BATCHES.save(deps.storage, batch_id, &batch)?;
                promoted.push(batch_id.to_string());
            }
        }
    }
    let listed: Vec<String> = set.attesters.iter().map(|a| a.evm_address.to_string()).collect();
    Ok(Response::new()
        .add_attribute("action", "update_attesters")
        .add_attribute("attesters", listed.join(","))
        .add_attribute("threshold", threshold.to_string())
        .add_attribute("attested_batches", promoted.join(",")))
}

pub fn execute_set_evm_settlement(
    deps: DepsMut,
    info: MessageInfo,
    address: String,
) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    only_admin(&config, &info.sender)?;
    let address = parse_settlement_address(&address)?;
    // Attested batches carry signatures for the current address: changing it would strand them.
    if let Some(key) =
        BATCHES_BY_STATUS.prefix(BatchStatus::Attested.as_str()).keys(deps.storage, None, None, Order::Ascending).next()
    {
        return Err(ContractError::AttestedBatchPending { batch_id: key? });
    }
    config.evm_settlement = Some(address);
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new()
        .add_attribute("action", "set_evm_settlement")
        .add_attribute("evm_settlement", address.to_string()))
}

pub fn execute_update_batch_policy(
    deps: DepsMut,
    info: MessageInfo,
    batch_policy: BatchPolicy,
) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    only_admin(&config, &info.sender)?;
    validate_policy(&batch_policy)?;
    config.batch_policy = batch_policy;
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new()
        .add_attribute("action", "update_batch_policy")
        .add_attribute("max_leaves", config.batch_policy.max_leaves.to_string())
        .add_attribute("max_age_blocks", config.batch_policy.max_age_blocks.to_string()))
}

pub fn execute_update_admin(deps: DepsMut, info: MessageInfo, admin: String) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    only_admin(&config, &info.sender)?;
    config.admin = deps.api.addr_validate(&admin)?;
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new().add_attribute("action", "update_admin").add_attribute("admin", config.admin))
}

pub fn execute_set_paused(deps: DepsMut, info: MessageInfo, paused: bool) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    only_admin(&config, &info.sender)?;
    config.paused = paused;
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new().add_attribute("action", "set_paused").add_attribute("paused", paused.to_string()))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    Ok(match msg {
        QueryMsg::Config {} => to_json_binary(&query_config(deps, env)?)?,
        QueryMsg::Outbox {} => to_json_binary(&query_outbox(deps, env)?)?,
        QueryMsg::PendingWithdrawals { start_after, limit } => {
            to_json_binary(&query_pending_withdrawals(deps, start_after, limit)?)?
        }
        QueryMsg::Batch { batch_id } => to_json_binary(&query_batch(deps, env, batch_id)?)?,
        QueryMsg::Batches { status, start_after, limit } => {
            to_json_binary(&query_batches(deps, env, status, start_after, limit)?)?
        }
        QueryMsg::Leaves { batch_id, start_after, limit } => {
            to_json_binary(&query_leaves(deps, batch_id, start_after, limit)?)?
        }
        QueryMsg::Attestations { batch_id, start_after, limit } => {
            to_json_binary(&query_attestations(deps, batch_id, start_after, limit)?)?
        }
        QueryMsg::Proof { batch_id, index } => to_json_binary(&query_proof(deps, batch_id, index)?)?,
    })
}

fn page_size(limit: Option<u32>) -> usize {
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

fn batch_response(
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

fn leaf_response(batch_id: u64, index: u32, leaf: Leaf) -> LeafResponse {
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

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    Ok(migrate_contract(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?)
}
