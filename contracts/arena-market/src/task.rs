//! Creating a task: the cw20 sent becomes the creator's bond and the task's reward pool; and the
//! creator's reclaim of what is left at the end.

use arena_types::market::commitment::initial_seed;
use arena_types::market::msg::{TaskAccounts, TaskParams};
use arena_types::market::params::validate_task_params;
use arena_types::market::phase::Schedule;
use cosmwasm_std::{Addr, Binary, DepsMut, Env, HexBinary, MessageInfo, Response, Uint128};

use crate::error::ContractError;
use crate::stake::transfer;
use crate::state::{
    load_task, now, Beacon, Seeds, Task, TaskState, BEACONS, CONFIG, EVALUATION_SHARDS, MODEL_CONSTRAINTS,
    NEXT_SUBMISSION_IDS, NEXT_TASK_ID, SALT_MIX, SCHEDULES, SEEDS, TASKS, TASK_STATE,
};

pub fn execute_create_task(
    deps: DepsMut,
    env: Env,
    creator: Addr,
    sent: Uint128,
    mut params: TaskParams,
) -> Result<Response, ContractError> {
    validate_task_params(&params)?;
    let bond = params.creator_bond;
    let pool = match sent.checked_sub(bond) {
        Ok(pool) if !pool.is_zero() => pool,
        _ => return Err(ContractError::BondNotCovered { bond, sent }),
    };
    // A void round's emission stays in the pool, and after the last round the creator reclaims
    // the pool: withholding the last round's key would hand that round's emission back for
    // `bond / rounds`. With the bond at least the pool, that forfeit is at least the round's
    // emission, so voiding a round never pays the creator.
    if pool > bond {
        return Err(ContractError::BondBelowPool { bond, pool });
    }
    let id = NEXT_TASK_ID.load(deps.storage)?;
    NEXT_TASK_ID.save(deps.storage, &(id + 1))?;

    // Round 1's submission phase opens now.
    let schedule = Schedule {
        clock: params.phases.clock,
        start: now(params.phases.clock, &env),
        submission: params.phases.submission,
        model_reveal: params.phases.model_reveal,
        commit: params.phases.commit,
        reveal: params.phases.reveal,
        rounds: params.rounds,
    };
    MODEL_CONSTRAINTS.save(deps.storage, id, &params.model)?;
    for (round, shard) in (1u32..).zip(std::mem::take(&mut params.evaluation)) {
        EVALUATION_SHARDS.save(deps.storage, (id, round), &shard)?;
    }
    let task = Task { id, creator: creator.clone(), params, schedule };
    TASKS.save(deps.storage, id, &task)?;
    NEXT_SUBMISSION_IDS.save(deps.storage, id, &1)?;
    SALT_MIX.save(deps.storage, id, &Binary::from([0u8; 32]))?;
    SCHEDULES.save(deps.storage, id, &schedule)?;
    TASK_STATE.save(
        deps.storage,
        id,
        &TaskState {
            accounts: TaskAccounts { entered: sent, pool, bond, ..TaskAccounts::default() },
            trainer_stake: Uint128::zero(),
            validator_stake: Uint128::zero(),
            sampling_total: Uint128::zero(),
            validator_slots: 0,
            sampling_capacity: 1,
            trainers: 0,
            rounds_finalized: 0,
            next_slash_id: 1,
        },
    )?;
    let seed = initial_seed(id, env.block.height, env.block.time.nanos());
    SEEDS.save(deps.storage, id, &Seeds { seed_round: 0, seed: HexBinary::from(seed) })?;
    BEACONS.save(deps.storage, id, &Beacon { round: 0, value: task.params.beacon.clone() })?;
    Ok(Response::new()
        .add_attribute("action", "create_task")
        .add_attribute("task_id", id.to_string())
        .add_attribute("creator", creator)
        .add_attribute("pool", pool)
        .add_attribute("creator_bond", bond)
        .add_attribute("rounds", task.params.rounds.to_string())
        .add_attribute("metric", task.params.metric.name)
        .add_attribute("start", schedule.start.to_string()))
}

pub fn execute_reclaim_pool(deps: DepsMut, info: MessageInfo, task_id: u64) -> Result<Response, ContractError> {
    let task = load_task(deps.storage, task_id)?;
    if info.sender != task.creator {
        return Err(ContractError::Unauthorized { expected: task.creator.to_string() });
    }
    let mut state = TASK_STATE.load(deps.storage, task_id)?;
    if state.rounds_finalized < task.params.rounds {
        return Err(ContractError::TaskNotFinished {
            task_id,
            finalized: state.rounds_finalized,
            rounds: task.params.rounds,
        });
    }
    // The pool's remainder and what void rounds left of the bond.
    let amount = state.accounts.pool + state.accounts.bond;
    if amount.is_zero() {
        return Err(ContractError::NothingToClaim {});
    }
    state.accounts.pool = Uint128::zero();
    state.accounts.bond = Uint128::zero();
    state.accounts.reclaimed = state.accounts.reclaimed.checked_add(amount)?;
    TASK_STATE.save(deps.storage, task_id, &state)?;
    let config = CONFIG.load(deps.storage)?;
    Ok(Response::new()
        .add_message(transfer(&config.token, &info.sender, amount)?)
        .add_attribute("action", "reclaim_pool")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("creator", info.sender)
        .add_attribute("amount", amount))
}
