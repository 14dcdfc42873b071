//! Stakes, delegations, commission, unbonding, withdrawals and claims.

use arena_types::market::msg::Role;
use arena_types::market::phase::Phase;
use arena_types::settlement::msg::ReceiveMsg as BridgeReceiveMsg;
use arena_types::settlement::EvmAddress;
use cosmwasm_std::{
    to_json_binary, Addr, Decimal, Decimal256, DepsMut, Env, MessageInfo, Order, Response, StdError, Storage, Uint128,
    Uint256, WasmMsg,
};
use cw20::Cw20ExecuteMsg;
use cw_storage_plus::Bound;

use crate::error::ContractError;
use crate::state::{
    add_validator_slot, counting_round, delegation_at, index_at, load_participant, load_task, min_stake, now,
    release_slot_if_idle, save_participant, Delegation, Participant, Task, TaskState, CONFIG, DELEGATIONS,
    DELEGATION_HISTORY, LAST_ASSIGNED, PARTICIPANTS, REWARDS, TASK_STATE, TRAINER_SUBMISSIONS,
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

/// Accrues a delegation's rewards of every round from the one after `d.settled_round` through
/// `through` (the last finalized round), each on the amount that counted in that round: the
/// operator's index grew by `delegators' part / delegated` in each round it was paid
/// ([`crate::state::INDEX_HISTORY`]), and a delegation's amount changes only between rounds
/// ([`DELEGATION_HISTORY`]). So a delegation made after a round's stakes froze earns nothing of
/// that round, however late the round is paid.
pub fn settle(
    storage: &dyn Storage,
    task_id: u64,
    delegator: &Addr,
    operator: &Addr,
    d: &mut Delegation,
    through: u32,
) -> Result<(), ContractError> {
    if d.settled_round >= through {
        return Ok(());
    }
    let mut index = d.reward_index;
    let mut amount = delegation_at(storage, task_id, delegator, operator, d.settled_round + 1)?;
    let changes: Vec<(u32, Uint128)> = DELEGATION_HISTORY
        .prefix(((task_id, delegator), operator))
        .range(storage, Some(Bound::exclusive(d.settled_round + 1)), Some(Bound::inclusive(through)), Order::Ascending)
        .collect::<Result<_, _>>()?;
    for (round, new_amount) in changes {
        let until = index_at(storage, task_id, operator, round - 1)?;
        accrue(d, amount, until - index)?;
        index = until;
        amount = new_amount;
    }
    let until = index_at(storage, task_id, operator, through)?;
    accrue(d, amount, until - index)?;
    d.reward_index = until;
    d.settled_round = through;
    Ok(())
}

fn accrue(d: &mut Delegation, amount: Uint128, index_growth: Decimal256) -> Result<(), ContractError> {
    let accrued = Uint256::from(amount).mul_floor(index_growth);
    d.pending = d.pending.checked_add(Uint128::try_from(accrued).map_err(StdError::from)?)?;
    Ok(())
}

/// Removes a delegation record that holds nothing and has been paid every round it counted in.
/// When an operator's last one goes, what rounding left in its delegator reserve cannot be owed
/// to anybody any more: it returns to the task pool.
fn retire_if_done(
    storage: &mut dyn Storage,
    state: &mut TaskState,
    task_id: u64,
    delegator: &Addr,
    operator: &Addr,
    d: &Delegation,
) -> Result<Option<Uint128>, ContractError> {
    if !(d.amount.is_zero() && d.unbonding.is_zero() && d.pending.is_zero()) {
        return Ok(None);
    }
    let history: Vec<u32> = DELEGATION_HISTORY
        .prefix(((task_id, delegator), operator))
        .keys(storage, None, None, Order::Ascending)
        .collect::<Result<_, _>>()?;
    // The last entry is the zero; every round before it must be settled.
    if history.last().is_some_and(|zero_from| zero_from - 1 > d.settled_round) {
        return Ok(None);
    }
    for round in history {
        DELEGATION_HISTORY.remove(storage, ((task_id, delegator), operator, round));
    }
    DELEGATIONS.remove(storage, (task_id, delegator, operator));
    let mut p = load_participant(storage, task_id, operator)?;
    p.delegations = p.delegations.saturating_sub(1);
    let mut swept = Uint128::zero();
    if p.delegations == 0 && !p.delegator_reserve.is_zero() {
        swept = p.delegator_reserve;
        p.delegator_reserve = Uint128::zero();
        state.accounts.rewarded = state.accounts.rewarded.checked_sub(swept)?;
        state.accounts.pool = state.accounts.pool.checked_add(swept)?;
    }
    PARTICIPANTS.save(storage, (task_id, operator), &p)?;
    Ok(Some(swept))
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
    let epoch = counting_round(&task, &env);
    let before = PARTICIPANTS.may_load(deps.storage, (task_id, &sender))?;
    let mut after = match &before {
        Some(p) if p.role != role => return Err(ContractError::RoleTaken { task_id, address: sender, role: p.role }),
        Some(p) => {
            let mut p = p.clone();
            if role == Role::Validator && p.slot.is_none() {
                p.slot = Some(add_validator_slot(deps.storage, task_id, &mut state, epoch, &sender)?);
            }
            p
        }
        None => {
            let slot = if role == Role::Validator {
                Some(add_validator_slot(deps.storage, task_id, &mut state, epoch, &sender)?)
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
                delegations: 0,
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
    save_participant(deps.storage, &task, &mut state, epoch, &sender, before.as_ref(), &mut after)?;
    TASK_STATE.save(deps.storage, task_id, &state)?;
    Ok(Response::new()
        .add_attribute("action", "stake")
        .add_attribute("counts_from_round", epoch.to_string())
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
    let mut state = TASK_STATE.load(deps.storage, task_id)?;
    let finalized = state.rounds_finalized;
    let mut d = match DELEGATIONS.may_load(deps.storage, (task_id, &sender, &operator))? {
        Some(mut d) => {
            settle(deps.storage, task_id, &sender, &operator, &mut d, finalized)?;
            d
        }
        None => {
            after.delegations += 1;
            Delegation {
                amount: Uint128::zero(),
                settled_round: finalized,
                reward_index: index_at(deps.storage, task_id, &operator, finalized)?,
                pending: Uint128::zero(),
                unbonding: Uint128::zero(),
                release_at: 0,
            }
        }
    };
    let epoch = counting_round(&task, &env);
    d.amount = d.amount.checked_add(amount)?;
    after.delegated = after.delegated.checked_add(amount)?;
    state.accounts.entered = state.accounts.entered.checked_add(amount)?;
    state.accounts.stake = state.accounts.stake.checked_add(amount)?;
    save_participant(deps.storage, &task, &mut state, epoch, &operator, Some(&before), &mut after)?;
    DELEGATIONS.save(deps.storage, (task_id, &sender, &operator), &d)?;
    DELEGATION_HISTORY.save(deps.storage, ((task_id, &sender), &operator, epoch), &d.amount)?;
    TASK_STATE.save(deps.storage, task_id, &state)?;
    Ok(Response::new()
        .add_attribute("action", "delegate")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("delegator", sender)
        .add_attribute("operator", operator)
        .add_attribute("amount", amount)
        .add_attribute("delegation", d.amount)
        .add_attribute("counts_from_round", epoch.to_string()))
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
    // Round 1 takes submissions before its stakes freeze: a trainer that submitted must not
    // leave before they do, or it would be ranked (pushing everyone else down a rank) on a
    // stake that no longer counts.
    let at = now(task.schedule.clock, &env);
    let round = task.schedule.at(at).round;
    if at < task.schedule.stake_freeze(round) && TRAINER_SUBMISSIONS.has(deps.storage, (task_id, round, &info.sender)) {
        return Err(ContractError::StakeHeldBySubmission { round, until: task.schedule.stake_freeze(round) });
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
    let epoch = counting_round(&task, &env);
    save_participant(deps.storage, &task, &mut state, epoch, &info.sender, Some(&before), &mut after)?;
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
    let mut state = TASK_STATE.load(deps.storage, task_id)?;
    settle(deps.storage, task_id, &info.sender, &operator, &mut d, state.rounds_finalized)?;
    let epoch = counting_round(&task, &env);
    d.amount -= amount;
    d.unbonding = d.unbonding.checked_add(amount)?;
    d.release_at = now(task.schedule.clock, &env) + task.params.phases.unbonding;
    let mut after = before.clone();
    after.delegated = after.delegated.checked_sub(amount)?;
    state.accounts.stake = state.accounts.stake.checked_sub(amount)?;
    state.accounts.unbonding = state.accounts.unbonding.checked_add(amount)?;
    save_participant(deps.storage, &task, &mut state, epoch, &operator, Some(&before), &mut after)?;
    DELEGATIONS.save(deps.storage, (task_id, &info.sender, &operator), &d)?;
    DELEGATION_HISTORY.save(deps.storage, ((task_id, &info.sender), &operator, epoch), &d.amount)?;
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
    let mut state = TASK_STATE.load(deps.storage, task_id)?;
    let mut swept = None;
    let amount = match operator {
        None => {
            let mut p = load_participant(deps.storage, task_id, &info.sender)?;
            let amount = check(p.unbonding, p.release_at)?;
            if let Some(round) = LAST_ASSIGNED.may_load(deps.storage, (task_id, &info.sender))? {
                if round > state.rounds_finalized {
                    return Err(ContractError::UnbondingLocked { round, finalized: state.rounds_finalized });
                }
            }
            p.unbonding = Uint128::zero();
            // No stake that counts changed: save without touching the sums.
            PARTICIPANTS.save(deps.storage, (task_id, &info.sender), &p)?;
            release_slot_if_idle(deps.storage, &task, &state, &env, &info.sender, &mut p)?;
            amount
        }
        Some(operator) => {
            let operator = deps.api.addr_validate(&operator)?;
            let mut d = load_delegation(deps.storage, task_id, &info.sender, &operator)?;
            let amount = check(d.unbonding, d.release_at)?;
            d.unbonding = Uint128::zero();
            settle(deps.storage, task_id, &info.sender, &operator, &mut d, state.rounds_finalized)?;
            DELEGATIONS.save(deps.storage, (task_id, &info.sender, &operator), &d)?;
            swept = retire_if_done(deps.storage, &mut state, task_id, &info.sender, &operator, &d)?;
            let mut p = load_participant(deps.storage, task_id, &operator)?;
            release_slot_if_idle(deps.storage, &task, &state, &env, &operator, &mut p)?;
            amount
        }
    };
    state.accounts.unbonding = state.accounts.unbonding.checked_sub(amount)?;
    state.accounts.withdrawn = state.accounts.withdrawn.checked_add(amount)?;
    TASK_STATE.save(deps.storage, task_id, &state)?;
    let config = CONFIG.load(deps.storage)?;
    Ok(Response::new()
        .add_message(transfer(&config.token, &info.sender, amount)?)
        .add_attribute("action", "withdraw_unbonded")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("address", info.sender)
        .add_attribute("amount", amount)
        .add_attributes(swept.filter(|s| !s.is_zero()).map(|s| ("dust_to_pool", s.to_string()))))
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
    let p = load_participant(deps.storage, task_id, &info.sender)?;
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
    let mut after = p.clone();
    after.commission = commission;
    after.commission_round = round;
    // Recorded like a stake change: a round pays its delegators at the commission that stood
    // when its stakes froze, whenever it is paid.
    let mut state = TASK_STATE.load(deps.storage, task_id)?;
    let epoch = counting_round(&task, &env);
    save_participant(deps.storage, &task, &mut state, epoch, &info.sender, Some(&p), &mut after)?;
    TASK_STATE.save(deps.storage, task_id, &state)?;
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
    let mut state = TASK_STATE.load(deps.storage, task_id)?;
    let mut d = load_delegation(deps.storage, task_id, &info.sender, &operator)?;
    settle(deps.storage, task_id, &info.sender, &operator, &mut d, state.rounds_finalized)?;
    let amount = d.pending;
    if amount.is_zero() {
        return Err(ContractError::NothingToClaim {});
    }
    d.pending = Uint128::zero();
    let mut p = load_participant(deps.storage, task_id, &operator)?;
    p.delegator_reserve = p.delegator_reserve.checked_sub(amount)?;
    PARTICIPANTS.save(deps.storage, (task_id, &operator), &p)?;
    DELEGATIONS.save(deps.storage, (task_id, &info.sender, &operator), &d)?;
    REWARDS.update(deps.storage, &info.sender, |r| -> Result<_, ContractError> {
        Ok(r.unwrap_or_default().checked_add(amount)?)
    })?;
    let swept = retire_if_done(deps.storage, &mut state, task_id, &info.sender, &operator, &d)?;
    TASK_STATE.save(deps.storage, task_id, &state)?;
    Ok(Response::new()
        .add_attribute("action", "withdraw_delegator_rewards")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("delegator", info.sender)
        .add_attribute("operator", operator)
        .add_attribute("amount", amount)
        .add_attributes(swept.filter(|s| !s.is_zero()).map(|s| ("dust_to_pool", s.to_string()))))
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
    env: Env,
    info: MessageInfo,
    evm_recipient: String,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let bridge = config.bridge_at(env.block.time.seconds()).cloned().ok_or(ContractError::NoBridge {})?;
    let recipient = EvmAddress::parse(&evm_recipient)?;
    if recipient == EvmAddress::default() {
        return Err(ContractError::ZeroEvmRecipient {});
    }
    let amount = REWARDS.may_load(deps.storage, &info.sender)?.unwrap_or_default();
    if !amount.is_zero() && amount < config.min_evm_withdrawal {
        return Err(ContractError::WithdrawalTooSmall { min: config.min_evm_withdrawal, amount });
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
