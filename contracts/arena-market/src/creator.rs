//! The task creator's duties in each round: the beacon value that seeds validator sampling, and
//! the key that opens the round's hidden evaluation shard.

use arena_types::market::commitment::{beacon_follows, evaluation_key_hash};
use cosmwasm_std::{DepsMut, Env, HexBinary, Response};

use crate::error::ContractError;
use crate::round::bytes32;
use crate::state::{assert_round_exists, load_task, now, Beacon, BEACONS, EVALUATION_KEYS, EVALUATION_SHARDS, SEEDS};

/// Takes the creator's beacon value of `round` (see [`ExecuteMsg::RevealBeacon`]).
///
/// [`ExecuteMsg::RevealBeacon`]: arena_types::market::msg::ExecuteMsg::RevealBeacon
pub fn execute_reveal_beacon(
    deps: DepsMut,
    env: Env,
    task_id: u64,
    round: u32,
    value: HexBinary,
) -> Result<Response, ContractError> {
    let task = load_task(deps.storage, task_id)?;
    assert_round_exists(&task, round)?;
    let now = now(task.schedule.clock, &env);
    let opens_at = task.schedule.stake_freeze(round);
    if now < opens_at {
        return Err(ContractError::BeaconTooEarly { round, opens_at, now });
    }
    if SEEDS.load(deps.storage, task_id)?.seed_round >= round {
        return Err(ContractError::BeaconTooLate { round });
    }
    let value = bytes32("value", &value)?;
    let known = BEACONS.load(deps.storage, task_id)?;
    if !beacon_follows(&bytes32("beacon", &known.value)?, known.round, &value, round) {
        return Err(ContractError::BeaconMismatch { known_round: known.round });
    }
    BEACONS.save(deps.storage, task_id, &Beacon { round, value: HexBinary::from(value) })?;
    Ok(Response::new()
        .add_attribute("action", "reveal_beacon")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("round", round.to_string())
        .add_attribute("value", HexBinary::from(value).to_hex()))
}

/// Takes the key of `round`'s evaluation shard (see [`ExecuteMsg::RevealEvaluationKey`]): only
/// once the round's models are all sealed and revealed, and only until the key deadline, after
/// which the round is void.
///
/// [`ExecuteMsg::RevealEvaluationKey`]: arena_types::market::msg::ExecuteMsg::RevealEvaluationKey
pub fn execute_reveal_evaluation_key(
    deps: DepsMut,
    env: Env,
    task_id: u64,
    round: u32,
    key: HexBinary,
) -> Result<Response, ContractError> {
    let task = load_task(deps.storage, task_id)?;
    assert_round_exists(&task, round)?;
    let now = now(task.schedule.clock, &env);
    let opens_at = task.schedule.commit_start(round);
    if now < opens_at {
        return Err(ContractError::KeyTooEarly { round, opens_at, now });
    }
    let deadline = task.schedule.key_deadline(round);
    if now >= deadline {
        return Err(ContractError::KeyTooLate { round, deadline, now });
    }
    if EVALUATION_KEYS.has(deps.storage, (task_id, round)) {
        return Err(ContractError::KeyAlreadyRevealed { round });
    }
    let key = bytes32("key", &key)?;
    let shard = EVALUATION_SHARDS.load(deps.storage, (task_id, round))?;
    if shard.key_sha256.as_slice() != evaluation_key_hash(&key) {
        return Err(ContractError::KeyMismatch { round, expected: shard.key_sha256.to_hex() });
    }
    EVALUATION_KEYS.save(deps.storage, (task_id, round), &HexBinary::from(key))?;
    Ok(Response::new()
        .add_attribute("action", "reveal_evaluation_key")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("round", round.to_string())
        .add_attribute("key", HexBinary::from(key).to_hex()))
}
