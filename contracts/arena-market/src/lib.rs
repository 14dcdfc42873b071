/*!
Arena's task market: tasks with cw20 reward pools, staking and delegation, rounds of submission,
validator assignment, commit-reveal scoring, the stake-weighted-median consensus, rewards and
slashing, exactly as `docs/design.md` ("Stake snapshots", "Consensus", "Rewards", "Slashing and unbonding") defines them.
The formulas live in [`arena_types::market`]; this crate applies them to chain state.

- [x] tasks created by a cw20 `Send` of the pool with validated parameters
- [x] trainer/validator stakes (one role per address per task), delegation, commission, unbonding
- [x] rounds by height or time; sealed submissions opened in a model-reveal phase, duplicates
  unpaid; stake^beta sampling of k validators per submission (cranked with `Assign`, bounded
  per call)
- [x] one hidden evaluation shard per round, its key revealed by the creator in the commit phase;
  the creator's bond pays the trainers of a round whose key never came
- [x] commit-reveal scores and baselines; stake-weighted median with the even-split rule; quorum;
  in-consensus/outlier standing; the baseline rule; validator pay graded by closeness
- [x] paginated finalization anyone can crank: slashing, ranking, trainer and validator rewards,
  delegator rewards through a per-operator reward index
- [x] claims in cw20 on this chain; the creator reclaims the pool's remainder after the last round
- [x] withdraw to an EVM address: `WithdrawToEvm` sends the claimable balance to arena-bridge
  with its `withdraw` hook (the recipient is checked here first); the admin names the bridge
- [x] admin limited to pausing, handing the role on and naming the bridge; cw2 migration

## Decisions the design left open

- **Schedule.** Round 1 opens when the task is created; rounds follow back to back, each
  `submission + model_reveal + commit + reveal` long, in blocks or seconds. Stakes and delegations are taken
  until the last round closes.
- **Assignment** is a crank, `Assign { limit }`, callable by anyone during the commit phase; it
  samples per submission with a Fenwick tree over validator slots (at most 4096 validators per
  task; the tree doubles as validators join), so its cost is `limit * k * 16 * (log2(n) + 2)`
  reads at worst for n validators, never a walk over the set. A submission nobody assigned is
  unscored and nobody is slashed for it.
- **Round seed.** Round 1: `sha256("arena-seed" || task || height || time)`. Every reveal folds its
  salt into a running mix; the first `Assign` of round r fixes `seed_r = sha256(seed_prev || mix ||
  beacon_r || r)`. Submission seeds are `sha256(task || round || submission || seed_r)`.
- **Weights are snapshots.** Everything a round reads of stakes (sampling, a reveal's weight in
  the median and quorum, the emission split, trainer and validator weights, the operator split)
  is the snapshot frozen for the round. An operator counts only while its own stake is at least
  its role's minimum.
- **Finalization** runs rounds in order (each emission is `pool / rounds left`), in four stages of
  at most `limit` items per call: score, rank, pay trainers, pay validators (see [`finalize`]).
- **Slashing** takes the share from the validator's own stake including what it is unbonding
  (bonded first), so unbonding does not escape a round's penalties; unbonding lasts at least one
  round. Delegations are never slashed.
- **Delegator rewards** go through a reward index per operator (rewards per delegated token),
  so paying an operator costs the same however many delegators it has; delegators are paid pro
  rata of their delegations at the time the round is paid.
- **Books.** Per task: `entered = pool + bond + in_finalization + stake + unbonding + rewarded +
  withdrawn + reclaimed`, checked by the tests after every round.
*/

pub mod admin;
pub mod contract;
pub mod creator;
pub mod error;
pub mod finalize;
pub mod msg;
pub mod query;
pub mod round;
pub mod stake;
pub mod state;
pub mod submission;
pub mod task;

#[cfg(test)]
mod testing;

pub use crate::error::ContractError;
