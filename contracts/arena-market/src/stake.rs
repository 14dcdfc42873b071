//! Stakes, delegations, commission, unbonding, withdrawals and claims.

use arena_types::market::msg::Role;
use arena_types::market::phase::Phase;
use arena_types::settlement::msg::ReceiveMsg as BridgeReceiveMsg;
use arena_types::settlement::EvmAddress;
use cosmwasm_std::{
    to_json_binary, Addr, Decimal, Decimal256, DepsMut, Env, MessageInfo, Response, StdError, Storage, Uint128,
    Uint256, WasmMsg,
};
use cw20::Cw20ExecuteMsg;

use crate::error::ContractError;
use crate::state::{
    add_validator_slot, load_participant, load_task, min_stake, now, save_participant, Delegation, Participant, Task,
    CONFIG, DELEGATIONS, PARTICIPANTS, REWARDS, TASK_STATE,
};

/// A cw20 transfer of the market's token out of the contract.
pub fn transfer(token: &Addr, to: &Addr, amount: Uint128) -> Result<WasmMsg, ContractError> {
    Ok(WasmMsg::Execute {
        contract_addr: token.to_string(),
        msg: to_json_binary(&Cw20ExecuteMsg::Transfer { recipient: to.to_string(), amount })?,
        funds: vec![],
    })
}

fn assert_not_ended(task: &Task, env: &Env) -> Result<(), ContractError> {
    let at = task.schedule.at(now(task.schedule.clock, env));
    if at.phase == Phase::Closed {
        return Err(ContractError::TaskEnded { task_id: task.id, ended_at: at.ends_at });
    }
    Ok(())
}

/// Brings a delegation's accrued rewards up to its operator's reward index.
pub fn settle(d: &mut Delegation, operator: &Participant) -> Result<(), ContractError> {
    let diff = operator.reward_index - d.reward_index;
    let accrued = Uint256::from(d.amount).mul_floor(diff);
    d.pending = d.pending.checked_add(Uint128::try_from(accrued).map_err(StdError::from)?)?;
    d.reward_index = operator.reward_index;
    Ok(())
}

pub fn execute_stake(
    deps: DepsMut,
    env: Env,
    sender: Addr,
    amount: Uint128,
    task_id: u64,
    role: Role,
) -> Result<Response, ContractError> {
    let task = load_task(deps.storage, task_id)?;
    assert_not_ended(&task, &env)?;
    let mut state = TASK_STATE.load(deps.storage, task_id)?;
    let before = PARTICIPANTS.may_load(deps.storage, (task_id, &sender))?;
    let mut after = match &before {
        Some(p) if p.role != role => return Err(ContractError::RoleTaken { task_id, address: sender, role: p.role }),
        Some(p) => p.clone(),
        None => {
            let slot = if role == Role::Validator {
                Some(add_validator_slot(deps.storage, task_id, &mut state, &sender)?)
            } else {
                state.trainers += 1;
                None
            };
            Participant {
                role,
                own: Uint128::zero(),
                delegated: Uint128::zero(),
                unbonding: Uint128::zero(),
                release_at: 0,
                commission: Decimal::zero(),
                commission_round: 0,
                slot,
                sampling_weight: Uint128::zero(),
                reward_index: Decimal256::zero(),
                delegator_reserve: Uint128::zero(),
                slashed: Uint128::zero(),
            }
        }
    };
    after.own = after.own.checked_add(amount)?;
    let min = min_stake(&task.params, role);
    if after.own < min {
        return Err(ContractError::StakeBelowMinimum { min, got: after.own });
    }
    state.accounts.entered = state.accounts.entered.checked_add(amount)?;
    state.accounts.stake = state.accounts.stake.checked_add(amount)?;
    save_participant(deps.storage, &task, &mut state, &sender, before.as_ref(), &mut after)?;
    TASK_STATE.save(deps.storage, task_id, &state)?;
    Ok(Response::new()
        .add_attribute("action", "stake")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("address", sender)
        .add_attribute("role", format!("{role:?}").to_lowercase())
        .add_attribute("amount", amount)
        .add_attribute("own_stake", after.own))
}

pub fn execute_delegate(
    deps: DepsMut,
    env: Env,
    sender: Addr,
    amount: Uint128,
    task_id: u64,
    operator: String,
) -> Result<Response, ContractError> {
    let task = load_task(deps.storage, task_id)?;
    assert_not_ended(&task, &env)?;
    let operator = deps.api.addr_validate(&operator)?;
    if operator == sender {
        return Err(ContractError::SelfDelegation {});
    }
    let before = load_participant(deps.storage, task_id, &operator)?;
    let mut after = before.clone();
    let mut d = DELEGATIONS.may_load(deps.storage, (task_id, &sender, &operator))?.unwrap_or(Delegation {
        amount: Uint128::zero(),
        reward_index: before.reward_index,
        pending: Uint128::zero(),
        unbonding: Uint128::zero(),
        release_at: 0,
    });
    settle(&mut d, &before)?;
    d.amount = d.amount.checked_add(amount)?;
    after.delegated = after.delegated.checked_add(amount)?;
    let mut state = TASK_STATE.load(deps.storage, task_id)?;
    state.accounts.entered = state.accounts.entered.checked_add(amount)?;
    state.accounts.stake = state.accounts.stake.checked_add(amount)?;
    save_participant(deps.storage, &task, &mut state, &operator, Some(&before), &mut after)?;
    DELEGATIONS.save(deps.storage, (task_id, &sender, &operator), &d)?;
    TASK_STATE.save(deps.storage, task_id, &state)?;
    Ok(Response::new()
        .add_attribute("action", "delegate")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("delegator", sender)
        .add_attribute("operator", operator)
        .add_attribute("amount", amount)
        .add_attribute("delegation", d.amount))
}

pub fn execute_unbond(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
    amount: Uint128,
) -> Result<Response, ContractError> {
    if amount.is_zero() {
        return Err(ContractError::ZeroAmount {});
    }
    let task = load_task(deps.storage, task_id)?;
    let before = load_participant(deps.storage, task_id, &info.sender)?;
    if amount > before.own {
        return Err(ContractError::InsufficientStake { available: before.own, requested: amount });
    }
    let mut after = before.clone();
    after.own -= amount;
    let min = min_stake(&task.params, before.role);
    if !after.own.is_zero() && after.own < min {
        return Err(ContractError::StakeBelowMinimum { min, got: after.own });
    }
    after.unbonding = after.unbonding.checked_add(amount)?;
    // A later unbond restarts the delay of everything unbonding: one entry per account.
    after.release_at = now(task.schedule.clock, &env) + task.params.phases.unbonding;
    let mut state = TASK_STATE.load(deps.storage, task_id)?;
    state.accounts.stake = state.accounts.stake.checked_sub(amount)?;
    state.accounts.unbonding = state.accounts.unbonding.checked_add(amount)?;
    save_participant(deps.storage, &task, &mut state, &info.sender, Some(&before), &mut after)?;
    TASK_STATE.save(deps.storage, task_id, &state)?;
    Ok(Response::new()
        .add_attribute("action", "unbond")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("address", info.sender)
        .add_attribute("amount", amount)
        .add_attribute("release_at", after.release_at.to_string()))
}

pub fn execute_undelegate(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
    operator: String,
    amount: Uint128,
) -> Result<Response, ContractError> {
    if amount.is_zero() {
        return Err(ContractError::ZeroAmount {});
    }
    let task = load_task(deps.storage, task_id)?;
    let operator = deps.api.addr_validate(&operator)?;
    let before = load_participant(deps.storage, task_id, &operator)?;
    let mut d = load_delegation(deps.storage, task_id, &info.sender, &operator)?;
    if amount > d.amount {
        return Err(ContractError::InsufficientStake { available: d.amount, requested: amount });
    }
    settle(&mut d, &before)?;
    d.amount -= amount;
    d.unbonding = d.unbonding.checked_add(amount)?;
    d.release_at = now(task.schedule.clock, &env) + task.params.phases.unbonding;
    let mut after = before.clone();
    after.delegated = after.delegated.checked_sub(amount)?;
    let mut state = TASK_STATE.load(deps.storage, task_id)?;
    state.accounts.stake = state.accounts.stake.checked_sub(amount)?;
    state.accounts.unbonding = state.accounts.unbonding.checked_add(amount)?;
    save_participant(deps.storage, &task, &mut state, &operator, Some(&before), &mut after)?;
    DELEGATIONS.save(deps.storage, (task_id, &info.sender, &operator), &d)?;
    TASK_STATE.save(deps.storage, task_id, &state)?;
    Ok(Response::new()
        .add_attribute("action", "undelegate")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("delegator", info.sender)
        .add_attribute("operator", operator)
        .add_attribute("amount", amount)
        .add_attribute("release_at", d.release_at.to_string()))
}

fn load_delegation(
    storage: &dyn Storage,
    task_id: u64,
    delegator: &Addr,
    operator: &Addr,
) -> Result<Delegation, ContractError> {
    DELEGATIONS.may_load(storage, (task_id, delegator, operator))?.ok_or_else(|| ContractError::UnknownDelegation {
        task_id,
        address: delegator.clone(),
        operator: operator.clone(),
    })
}

pub fn execute_withdraw_unbonded(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
    operator: Option<String>,
) -> Result<Response, ContractError> {
    let task = load_task(deps.storage, task_id)?;
    let now = now(task.schedule.clock, &env);
    let check = |unbonding: Uint128, release_at: u64| {
        if unbonding.is_zero() {
            return Err(ContractError::NothingToWithdraw {});
        }
        if now < release_at {
            return Err(ContractError::UnbondingNotFinished { release_at, now });
        }
        Ok(unbonding)
    };
    let amount = match operator {
        None => {
            let mut p = load_participant(deps.storage, task_id, &info.sender)?;
            let amount = check(p.unbonding, p.release_at)?;
            p.unbonding = Uint128::zero();
            // No stake that counts changed: save without touching the sums.
            PARTICIPANTS.save(deps.storage, (task_id, &info.sender), &p)?;
            amount
        }
        Some(operator) => {
            let operator = deps.api.addr_validate(&operator)?;
            let mut d = load_delegation(deps.storage, task_id, &info.sender, &operator)?;
            let amount = check(d.unbonding, d.release_at)?;
            d.unbonding = Uint128::zero();
            DELEGATIONS.save(deps.storage, (task_id, &info.sender, &operator), &d)?;
            amount
        }
    };
    let mut state = TASK_STATE.load(deps.storage, task_id)?;
    state.accounts.unbonding = state.accounts.unbonding.checked_sub(amount)?;
    state.accounts.withdrawn = state.accounts.withdrawn.checked_add(amount)?;
    TASK_STATE.save(deps.storage, task_id, &state)?;
    let config = CONFIG.load(deps.storage)?;
    Ok(Response::new()
        .add_message(transfer(&config.token, &info.sender, amount)?)
        .add_attribute("action", "withdraw_unbonded")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("address", info.sender)
        .add_attribute("amount", amount))
}

pub fn execute_set_commission(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
    commission: Decimal,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let task = load_task(deps.storage, task_id)?;
    let mut p = load_participant(deps.storage, task_id, &info.sender)?;
    if commission > config.max_commission {
        return Err(ContractError::CommissionTooHigh { max: config.max_commission, got: commission });
    }
    let change = commission.abs_diff(p.commission);
    if change > config.max_commission_change {
        return Err(ContractError::CommissionChangeTooLarge { max: config.max_commission_change, got: change });
    }
    let round = task.schedule.at(now(task.schedule.clock, &env)).round;
    if p.commission_round == round {
        return Err(ContractError::CommissionChangeTooSoon { round });
    }
    p.commission = commission;
    p.commission_round = round;
    PARTICIPANTS.save(deps.storage, (task_id, &info.sender), &p)?;
    Ok(Response::new()
        .add_attribute("action", "set_commission")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("operator", info.sender)
        .add_attribute("commission", commission.to_string()))
}

pub fn execute_withdraw_delegator_rewards(
    deps: DepsMut,
    info: MessageInfo,
    task_id: u64,
    operator: String,
) -> Result<Response, ContractError> {
    load_task(deps.storage, task_id)?;
    let operator = deps.api.addr_validate(&operator)?;
    let mut p = load_participant(deps.storage, task_id, &operator)?;
    let mut d = load_delegation(deps.storage, task_id, &info.sender, &operator)?;
    settle(&mut d, &p)?;
    let amount = d.pending;
    if amount.is_zero() {
        return Err(ContractError::NothingToClaim {});
    }
    d.pending = Uint128::zero();
    p.delegator_reserve = p.delegator_reserve.checked_sub(amount)?;
    PARTICIPANTS.save(deps.storage, (task_id, &operator), &p)?;
    DELEGATIONS.save(deps.storage, (task_id, &info.sender, &operator), &d)?;
    REWARDS.update(deps.storage, &info.sender, |r| -> Result<_, ContractError> {
        Ok(r.unwrap_or_default().checked_add(amount)?)
    })?;
    Ok(Response::new()
        .add_attribute("action", "withdraw_delegator_rewards")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("delegator", info.sender)
        .add_attribute("operator", operator)
        .add_attribute("amount", amount))
}

/// Empties `who`'s claimable balance and returns it; refuses an empty one.
fn take_claimable(storage: &mut dyn Storage, who: &Addr) -> Result<Uint128, ContractError> {
    let amount = REWARDS.may_load(storage, who)?.unwrap_or_default();
    if amount.is_zero() {
        return Err(ContractError::NothingToClaim {});
    }
    REWARDS.remove(storage, who);
    Ok(amount)
}

pub fn execute_claim(deps: DepsMut, info: MessageInfo) -> Result<Response, ContractError> {
    let amount = take_claimable(deps.storage, &info.sender)?;
    let config = CONFIG.load(deps.storage)?;
    Ok(Response::new()
        .add_message(transfer(&config.token, &info.sender, amount)?)
        .add_attribute("action", "claim")
        .add_attribute("address", info.sender)
        .add_attribute("amount", amount))
}

/// Pays the sender's whole claimable balance to `evm_recipient` through the bridge: a cw20 `Send`
/// of it to the bridge with the bridge's `withdraw` hook, so the bridge queues it with the
/// market as sender. The recipient is checked here first, so a bad one fails with the market's
/// error and nothing moves; if the bridge refuses anyway (paused), the whole transaction fails
/// and the balance stays claimable.
pub fn execute_withdraw_to_evm(
    deps: DepsMut,
    info: MessageInfo,
    evm_recipient: String,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let bridge = config.bridge.ok_or(ContractError::NoBridge {})?;
    let recipient = EvmAddress::parse(&evm_recipient)?;
    if recipient == EvmAddress::default() {
        return Err(ContractError::ZeroEvmRecipient {});
    }
    let amount = take_claimable(deps.storage, &info.sender)?;
    // The checksummed form: the bridge parses it again and it always passes.
    let hook = BridgeReceiveMsg::Withdraw { evm_recipient: recipient.to_string() };
    let send = WasmMsg::Execute {
        contract_addr: config.token.to_string(),
        msg: to_json_binary(&Cw20ExecuteMsg::Send {
            contract: bridge.to_string(),
            amount,
            msg: to_json_binary(&hook)?,
        })?,
        funds: vec![],
    };
    Ok(Response::new()
        .add_message(send)
        .add_attribute("action", "withdraw_to_evm")
        .add_attribute("address", info.sender)
        .add_attribute("evm_recipient", recipient.to_string())
        .add_attribute("amount", amount)
        .add_attribute("bridge", bridge))
}
