//! Creating a task: the cw20 sent becomes its reward pool.

use arena_types::market::commitment::initial_seed;
use arena_types::market::msg::{TaskAccounts, TaskParams};
use arena_types::market::params::validate_task_params;
use arena_types::market::phase::Schedule;
use cosmwasm_std::{Addr, DepsMut, Env, HexBinary, Response, Uint128};

use crate::error::ContractError;
use crate::state::{now, Seeds, Task, TaskState, NEXT_TASK_ID, SEEDS, TASKS, TASK_STATE};

pub fn execute_create_task(
    deps: DepsMut,
    env: Env,
    creator: Addr,
    pool: Uint128,
    params: TaskParams,
) -> Result<Response, ContractError> {
    validate_task_params(&params)?;
    let id = NEXT_TASK_ID.load(deps.storage)?;
    NEXT_TASK_ID.save(deps.storage, &(id + 1))?;

    // Round 1's submission phase opens now.
    let schedule = Schedule {
        clock: params.phases.clock,
        start: now(params.phases.clock, &env),
        submission: params.phases.submission,
        commit: params.phases.commit,
        reveal: params.phases.reveal,
        rounds: params.rounds,
    };
    let task = Task { id, creator: creator.clone(), params, schedule };
    TASKS.save(deps.storage, id, &task)?;
    TASK_STATE.save(
        deps.storage,
        id,
        &TaskState {
            accounts: TaskAccounts { entered: pool, pool, ..TaskAccounts::default() },
            trainer_stake: Uint128::zero(),
            validator_stake: Uint128::zero(),
            sampling_total: Uint128::zero(),
            validator_slots: 0,
            trainers: 0,
            rounds_finalized: 0,
            next_submission_id: 1,
            next_slash_id: 1,
        },
    )?;
    let seed = initial_seed(id, env.block.height, env.block.time.nanos());
    SEEDS.save(
        deps.storage,
        id,
        &Seeds { seed_round: 1, seed: HexBinary::from(seed), mix: HexBinary::from([0u8; 32]) },
    )?;
    Ok(Response::new()
        .add_attribute("action", "create_task")
        .add_attribute("task_id", id.to_string())
        .add_attribute("creator", creator)
        .add_attribute("pool", pool)
        .add_attribute("rounds", task.params.rounds.to_string())
        .add_attribute("metric", task.params.metric.name)
        .add_attribute("start", schedule.start.to_string()))
}
