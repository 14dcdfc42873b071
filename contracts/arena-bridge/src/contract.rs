#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response};

use arena_types::migrate::migrate_contract;

use crate::admin::{
    execute_set_evm_settlement, execute_set_paused, execute_update_admin, execute_update_attesters,
    execute_update_batch_policy, parse_settlement_address, validate_attesters, validate_policy,
};
use crate::attest::{execute_attest, execute_confirm};
use crate::error::ContractError;
use crate::msg::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};
use crate::query::{
    query_attestations, query_batch, query_batches, query_config, query_leaves, query_outbox,
    query_pending_withdrawals, query_proof,
};
use crate::seal::execute_seal_batch;
use crate::state::{Config, Outbox, ATTESTERS, CONFIG, FIRST_BATCH_ID, OUTBOX};
use crate::withdraw::execute_receive;

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
    // The pause stops what moves tokens or batches forward; confirmations (a record of what
    // already happened on the EVM side) and the admin's messages go on, so an emergency can be
    // dealt with while paused.
    let pausable = matches!(msg, ExecuteMsg::Receive(_) | ExecuteMsg::SealBatch {} | ExecuteMsg::Attest { .. });
    if pausable && CONFIG.load(deps.storage)?.paused {
        return Err(ContractError::Paused {});
    }
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

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    Ok(migrate_contract(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?)
}
