//! A training node's part of a round: the sealed submission, and the model reveal that opens it,
//! where the duplicate rule applies.
//!
//! Why sealed: a model published in the submission phase could be copied by any trainer before
//! the phase ends. A commitment shows nothing of the model (it is salted), and by the time models
//! are revealed every commitment of the round is fixed.

use arena_types::market::commitment::model_commitment;
use arena_types::market::msg::{ModelMetadata, Role, SubmissionStatus};
use arena_types::market::params::{text, validate_metadata, MAX_URI_LEN};
use arena_types::market::phase::Phase;
use cosmwasm_std::{Addr, DepsMut, Env, HexBinary, MessageInfo, Response, Storage};

use crate::error::ContractError;
use crate::round::{assert_phase, bytes32, load_round};
use crate::state::{
    counting_round, effective_of, load_participant, load_schedule, load_task, min_stake, now, stake_at, stored_model,
    Submission, SubmissionResult, MODELS, MODEL_CONSTRAINTS, MODEL_OWNERS, NEXT_SUBMISSION_IDS, RESULTS, ROUNDS,
    SUBMISSIONS, TRAINER_SUBMISSIONS,
};

pub fn execute_submit(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
    commitment: HexBinary,
) -> Result<Response, ContractError> {
    let task = load_task(deps.storage, task_id)?;
    let p = load_participant(deps.storage, task_id, &info.sender)?;
    if p.role != Role::Trainer {
        return Err(ContractError::WrongRole { address: info.sender, expected: Role::Trainer, actual: p.role });
    }
    let round = task.schedule.at(now(task.schedule.clock, &env)).round;
    assert_phase(&task.schedule, &env, round, Phase::Submission)?;
    // What counts is the stake frozen for this round, not what is bonded now.
    let counted = stake_at(deps.storage, task_id, &info.sender, round)?;
    let min = min_stake(&task.params, Role::Trainer);
    if counted.own < min {
        if p.own >= min {
            let counts_from = counting_round(&task, &env);
            return Err(ContractError::StakeNotCounted { address: info.sender, round, counts_from });
        }
        return Err(ContractError::StakeBelowMinimum { min, got: counted.own });
    }
    if let Some((submission_id, _)) = TRAINER_SUBMISSIONS.may_load(deps.storage, (task_id, round, &info.sender))? {
        return Err(ContractError::DuplicateSubmission { trainer: info.sender, round, submission_id });
    }
    bytes32("commitment", &commitment)?;

    let mut round_state = load_round(deps.storage, task_id, round)?;
    let id = NEXT_SUBMISSION_IDS.load(deps.storage, task_id)?;
    NEXT_SUBMISSION_IDS.save(deps.storage, task_id, &(id + 1))?;
    round_state.submissions += 1;
    let submission = Submission {
        round,
        trainer: info.sender.clone(),
        commitment: commitment.clone(),
        stake: effective_of(&task.params, Role::Trainer, counted.own, counted.delegated),
    };
    SUBMISSIONS.save(deps.storage, (task_id, id), &submission)?;
    RESULTS.save(deps.storage, (task_id, id), &SubmissionResult::pending())?;
    TRAINER_SUBMISSIONS.save(deps.storage, (task_id, round, &info.sender), &(id, commitment.clone()))?;
    ROUNDS.save(deps.storage, (task_id, round), &round_state)?;
    Ok(Response::new()
        .add_attribute("action", "submit")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("round", round.to_string())
        .add_attribute("submission_id", id.to_string())
        .add_attribute("trainer", info.sender)
        .add_attribute("commitment", commitment.to_hex()))
}

#[allow(clippy::too_many_arguments)] // the message's fields, as in `contract::execute`
pub fn execute_reveal_model(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    task_id: u64,
    model_sha256: HexBinary,
    uri: String,
    metadata: ModelMetadata,
    salt: HexBinary,
) -> Result<Response, ContractError> {
    // The schedule and model constraints, not the whole task: a reveal should cost little.
    let schedule = load_schedule(deps.storage, task_id)?;
    let round = schedule.at(now(schedule.clock, &env)).round;
    assert_phase(&schedule, &env, round, Phase::ModelReveal)?;
    let Some((id, commitment)) = TRAINER_SUBMISSIONS.may_load(deps.storage, (task_id, round, &info.sender))? else {
        return Err(ContractError::NothingToReveal { trainer: info.sender, round });
    };
    let sha = bytes32("model_sha256", &model_sha256)?;
    let salt = bytes32("salt", &salt)?;
    text("uri", &uri, MAX_URI_LEN)?;
    validate_metadata(&MODEL_CONSTRAINTS.load(deps.storage, task_id)?, &metadata)?;
    let computed = model_commitment(task_id, round, info.sender.as_str(), &sha, &salt);
    if commitment.as_slice() != computed {
        return Err(ContractError::ModelCommitmentMismatch {
            submission_id: id,
            committed: commitment.to_hex(),
            computed: HexBinary::from(computed).to_hex(),
        });
    }
    let claim = claim_model(deps.storage, task_id, &sha, id, round, &info.sender)?;
    MODELS.save(deps.storage, (task_id, id), &stored_model(&sha, uri, metadata))?;

    let mut resp = Response::new()
        .add_attribute("action", "reveal_model")
        .add_attribute("task_id", task_id.to_string())
        .add_attribute("round", round.to_string())
        .add_attribute("submission_id", id.to_string())
        .add_attribute("trainer", &info.sender)
        .add_attribute("model_sha256", model_sha256.to_hex());
    // The result stays `Pending` (written at submission) unless the model is another's.
    match claim {
        Claim::Owner => {}
        Claim::DuplicateOf(original) => {
            mark_duplicate(deps.storage, task_id, id)?;
            resp = resp.add_attribute("duplicate_of", original.to_string());
        }
        Claim::TakenFrom(earlier_owner) => resp = resp.add_attribute("duplicate", earlier_owner.to_string()),
    }
    Ok(resp)
}

/// What the duplicate rule made of a reveal.
enum Claim {
    /// The model is this submission's (first revealed, or the trainer's own from an earlier round).
    Owner,
    /// Another trainer's submission owns it.
    DuplicateOf(u64),
    /// This submission committed earlier in the round than the one that revealed the model
    /// first: that one (given) is the duplicate now.
    TakenFrom(u64),
}

/// Refuses a replay, then applies the duplicate rule: a model hash belongs to the first trainer in the task to reveal it,
/// except that within a round the earliest commitment (lowest submission id) keeps it, whatever
/// the order of the reveals, so that racing to reveal first gains nothing. A trainer may submit
/// its own model again in a later round.
fn claim_model(
    storage: &mut dyn Storage,
    task_id: u64,
    sha: &[u8; 32],
    id: u64,
    round: u32,
    trainer: &Addr,
) -> Result<Claim, ContractError> {
    let Some(owner_id) = MODEL_OWNERS.may_load(storage, (task_id, sha.as_slice()))? else {
        MODEL_OWNERS.save(storage, (task_id, sha.as_slice()), &id)?;
        return Ok(Claim::Owner);
    };
    // A known hash (rare): first, is this a replay? The first reveal of a new hash cannot be one,
    // which spares every ordinary reveal that read.
    if owner_id == id || MODELS.has(storage, (task_id, id)) {
        return Err(ContractError::ModelAlreadyRevealed { submission_id: id });
    }
    let owner = SUBMISSIONS.load(storage, (task_id, owner_id))?;
    if owner.trainer == *trainer {
        return Ok(Claim::Owner);
    }
    if owner.round == round && id < owner_id {
        mark_duplicate(storage, task_id, owner_id)?;
        MODEL_OWNERS.save(storage, (task_id, sha.as_slice()), &id)?;
        return Ok(Claim::TakenFrom(owner_id));
    }
    Ok(Claim::DuplicateOf(owner_id))
}

fn mark_duplicate(storage: &mut dyn Storage, task_id: u64, id: u64) -> Result<(), ContractError> {
    let mut result = RESULTS.load(storage, (task_id, id))?;
    result.status = SubmissionStatus::Duplicate;
    RESULTS.save(storage, (task_id, id), &result)?;
    Ok(())
}
