#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{from_json, to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response, StdResult};

use arena_types::market::msg::{DEFAULT_BRIDGE_CHANGE_DELAY, DEFAULT_MIN_EVM_WITHDRAWAL};
use arena_types::migrate::migrate_contract;

use crate::error::ContractError;
use crate::msg::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg, ReceiveMsg};
use crate::state::{Config, CONFIG, NEXT_TASK_ID, PAUSED};
use crate::{admin, creator, finalize, query, round, stake, submission, task};

pub const CONTRACT_NAME: &str = "crates.io:arena-market";
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    _env: Env,
    _info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    let config = Config {
        admin: msg.admin.map(|a| deps.api.addr_validate(&a)).transpose()?,
        token: deps.api.addr_validate(&msg.token)?,
        max_commission: msg.max_commission,
        max_commission_change: msg.max_commission_change,
        paused: false,
        bridge: msg.bridge.map(|b| deps.api.addr_validate(&b)).transpose()?,
        min_evm_withdrawal: msg.min_evm_withdrawal.unwrap_or(DEFAULT_MIN_EVM_WITHDRAWAL),
        pending_bridge: None,
        bridge_change_delay: msg.bridge_change_delay.unwrap_or(DEFAULT_BRIDGE_CHANGE_DELAY),
    };
    admin::validate_commission_bounds(&config)?;
    CONFIG.save(deps.storage, &config)?;
    PAUSED.save(deps.storage, &false)?;
    NEXT_TASK_ID.save(deps.storage, &1)?;
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    Ok(Response::new()
        .add_attribute("action", "instantiate")
        .add_attribute("token", config.token)
        .add_attribute("max_commission", config.max_commission.to_string())
        .add_attribute("bridge", config.bridge.map(String::from).unwrap_or_default()))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(deps: DepsMut, env: Env, info: MessageInfo, msg: ExecuteMsg) -> Result<Response, ContractError> {
    // Admin messages work while paused: replacing a broken bridge is part of an emergency.
    let is_admin_msg =
        matches!(msg, ExecuteMsg::SetPaused { .. } | ExecuteMsg::UpdateAdmin { .. } | ExecuteMsg::SetBridge { .. });
    if !is_admin_msg && PAUSED.load(deps.storage)? {
        return Err(ContractError::Paused {});
    }
    match msg {
        ExecuteMsg::Receive(wrapper) => {
            let config = CONFIG.load(deps.storage)?;
            if info.sender != config.token {
                return Err(ContractError::WrongToken { expected: config.token, got: info.sender });
            }
            if wrapper.amount.is_zero() {
                return Err(ContractError::ZeroAmount {});
            }
            let sender = deps.api.addr_validate(&wrapper.sender)?;
            match from_json(&wrapper.msg)? {
                ReceiveMsg::CreateTask(params) => task::execute_create_task(deps, env, sender, wrapper.amount, params),
                ReceiveMsg::Stake { task_id, role } => {
                    stake::execute_stake(deps, env, sender, wrapper.amount, task_id, role)
                }
                ReceiveMsg::Delegate { task_id, operator } => {
                    stake::execute_delegate(deps, env, sender, wrapper.amount, task_id, operator)
                }
            }
        }
        ExecuteMsg::Submit { task_id, commitment } => submission::execute_submit(deps, env, info, task_id, commitment),
        ExecuteMsg::RevealModel { task_id, model_sha256, uri, metadata, salt } => {
            submission::execute_reveal_model(deps, env, info, task_id, model_sha256, uri, metadata, salt)
        }
        ExecuteMsg::Assign { task_id, limit } => round::execute_assign(deps, env, task_id, limit),
        ExecuteMsg::Commit { task_id, submission_id, commitment } => {
            round::execute_commit(deps, env, info, task_id, submission_id, commitment)
        }
        ExecuteMsg::Reveal { task_id, submission_id, score, baseline, salt } => {
            round::execute_reveal(deps, env, info, task_id, submission_id, score, baseline, salt)
        }
        ExecuteMsg::RevealEvaluationKey { task_id, round, key } => {
            creator::execute_reveal_evaluation_key(deps, env, task_id, round, key)
        }
        ExecuteMsg::RevealBeacon { task_id, round, value } => {
            creator::execute_reveal_beacon(deps, env, task_id, round, value)
        }
        ExecuteMsg::Finalize { task_id, round, limit } => finalize::execute_finalize(deps, env, task_id, round, limit),
        ExecuteMsg::Unbond { task_id, amount } => stake::execute_unbond(deps, env, info, task_id, amount),
        ExecuteMsg::Undelegate { task_id, operator, amount } => {
            stake::execute_undelegate(deps, env, info, task_id, operator, amount)
        }
        ExecuteMsg::WithdrawUnbonded { task_id, operator } => {
            stake::execute_withdraw_unbonded(deps, env, info, task_id, operator)
        }
        ExecuteMsg::SetCommission { task_id, commission } => {
            stake::execute_set_commission(deps, env, info, task_id, commission)
        }
        ExecuteMsg::WithdrawDelegatorRewards { task_id, operator } => {
            stake::execute_withdraw_delegator_rewards(deps, info, task_id, operator)
        }
        ExecuteMsg::Claim {} => stake::execute_claim(deps, info),
        ExecuteMsg::WithdrawToEvm { evm_recipient } => stake::execute_withdraw_to_evm(deps, env, info, evm_recipient),
        ExecuteMsg::ReclaimPool { task_id } => task::execute_reclaim_pool(deps, info, task_id),
        ExecuteMsg::SetPaused { paused } => admin::execute_set_paused(deps, info, paused),
        ExecuteMsg::UpdateAdmin { admin } => admin::execute_update_admin(deps, info, admin),
        ExecuteMsg::SetBridge { bridge } => admin::execute_set_bridge(deps, env, info, bridge),
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> StdResult<Binary> {
    match msg {
        QueryMsg::Config {} => to_json_binary(&query::query_config(deps, &env)?),
        QueryMsg::Task { task_id } => to_json_binary(&query::query_task(deps, &env, task_id)?),
        QueryMsg::Beacon { task_id } => to_json_binary(&query::query_beacon(deps, &env, task_id)?),
        QueryMsg::StakeAt { task_id, address, round } => {
            to_json_binary(&query::query_stake_at(deps, task_id, address, round)?)
        }
        QueryMsg::Tasks { start_after, limit } => to_json_binary(&query::query_tasks(deps, &env, start_after, limit)?),
        QueryMsg::Round { task_id, round } => to_json_binary(&query::query_round(deps, &env, task_id, round)?),
        QueryMsg::Submission { task_id, submission_id } => {
            to_json_binary(&query::query_submission(deps, task_id, submission_id)?)
        }
        QueryMsg::Submissions { task_id, round, start_after, limit } => {
            to_json_binary(&query::query_submissions(deps, task_id, round, start_after, limit)?)
        }
        QueryMsg::Assignments { task_id, submission_id, start_after, limit } => {
            to_json_binary(&query::query_assignments(deps, task_id, submission_id, start_after, limit)?)
        }
        QueryMsg::ValidatorAssignments { task_id, validator, start_after, limit } => {
            to_json_binary(&query::query_validator_assignments(deps, task_id, validator, start_after, limit)?)
        }
        QueryMsg::Ranking { task_id, round, start_after, limit } => {
            to_json_binary(&query::query_ranking(deps, task_id, round, start_after, limit)?)
        }
        QueryMsg::Participant { task_id, address } => {
            to_json_binary(&query::query_participant(deps, task_id, address)?)
        }
        QueryMsg::Participants { task_id, start_after, limit } => {
            to_json_binary(&query::query_participants(deps, task_id, start_after, limit)?)
        }
        QueryMsg::Delegation { task_id, delegator, operator } => {
            to_json_binary(&query::query_delegation(deps, task_id, delegator, operator)?)
        }
        QueryMsg::Delegations { task_id, delegator, start_after, limit } => {
            to_json_binary(&query::query_delegations(deps, task_id, delegator, start_after, limit)?)
        }
        QueryMsg::Rewards { address } => to_json_binary(&query::query_rewards(deps, address)?),
        QueryMsg::SlashEvents { task_id, start_after, limit } => {
            to_json_binary(&query::query_slash_events(deps, task_id, start_after, limit)?)
        }
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    // Tasks stored before 0.3 have no sealed submissions, evaluation shards or bond (and before
    // 0.2 no stake snapshots, and another sampling tree): reading them as today's would pay and
    // sample wrongly.
    let stored = cw2::get_contract_version(deps.storage)?;
    if version_below(&stored.version, STORE_SINCE) && NEXT_TASK_ID.load(deps.storage)? > 1 {
        return Err(ContractError::MigrationWithTasks { from: stored.version, store_since: STORE_SINCE.into() });
    }
    if version_below(&stored.version, "0.2.0") {
        // 0.1 kept the pause in the config.
        let config = CONFIG.load(deps.storage)?;
        PAUSED.save(deps.storage, &config.paused)?;
        CONFIG.save(deps.storage, &config)?;
    }
    Ok(migrate_contract(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?)
}

/// The first version that stores tasks in today's shape (sealed submissions, evaluation shards,
/// the creator's bond). A task's `kind` (classification or language model) came later without a
/// new store: a task stored without it reads as classification, and classification tasks are
/// still written without it.
pub const STORE_SINCE: &str = "0.3.0";

/// `a < b` for dotted numeric versions (pre-release suffixes ignored).
fn version_below(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> { v.split(['.', '-']).take(3).map(|part| part.parse().unwrap_or(0)).collect() };
    parse(a) < parse(b)
}
