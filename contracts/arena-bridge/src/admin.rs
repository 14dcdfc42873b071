//! The admin's messages: attester set and threshold, EVM settlement address, batch policy,
//! admin, pause.

use cosmwasm_std::{Addr, Deps, DepsMut, Env, MessageInfo, Order, Response, StdResult};

use arena_types::settlement::{batch_digest, EvmAddress};

use crate::attest::{count_attestations, load_batch, set_status};
use crate::error::ContractError;
use crate::msg::{Attester, BatchPolicy, BatchStatus, MAX_ATTESTERS, MAX_BATCH_LEAVES};
use crate::state::{source, AttesterEntry, AttesterSet, Config, ATTESTERS, BATCHES, BATCHES_BY_STATUS, CONFIG};

pub(crate) fn only_admin(config: &Config, sender: &Addr) -> Result<(), ContractError> {
    if *sender != config.admin {
        return Err(ContractError::Unauthorized { sender: sender.clone(), admin: config.admin.clone() });
    }
    Ok(())
}

pub(crate) fn validate_attesters(
    deps: Deps,
    attesters: &[Attester],
    threshold: u32,
) -> Result<AttesterSet, ContractError> {
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

pub(crate) fn validate_policy(policy: &BatchPolicy) -> Result<(), ContractError> {
    if policy.max_leaves == 0 || policy.max_leaves > MAX_BATCH_LEAVES {
        return Err(ContractError::InvalidMaxLeaves { max_leaves: policy.max_leaves, limit: MAX_BATCH_LEAVES });
    }
    Ok(())
}

pub(crate) fn parse_settlement_address(text: &str) -> Result<EvmAddress, ContractError> {
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
/// Most sealed batches an attester update re-counts (those that now meet the threshold become
/// attested).
pub const MAX_RECOUNTED_BATCHES: usize = 100;

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
        // Bounded, so the admin's message always fits in a block; oldest first, and the promoted
        // leave the sealed index, so sending the same set again walks the next ones.
        let sealed: Vec<u64> = BATCHES_BY_STATUS
            .prefix(BatchStatus::Sealed.as_str())
            .keys(deps.storage, None, None, Order::Ascending)
            .take(MAX_RECOUNTED_BATCHES)
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
