/*!
Arena's task market: tasks with cw20 reward pools, staking and delegation, rounds of submission,
validator assignment, commit-reveal scoring, the stake-weighted-median consensus, rewards and
slashing, exactly as `DESIGN.md` ("The round", "Consensus", "Rewards and slashing") defines them.
The formulas live in [`arena_types::market`]; this crate applies them to chain state.

- [x] tasks created by a cw20 `Send` of the pool with validated parameters
- [x] trainer/validator stakes (one role per address per task), delegation, commission, unbonding
- [x] rounds by height or time; submissions; stake^beta sampling of k validators per submission
  (cranked with `Assign`, bounded per call)
- [x] commit-reveal scores; lower stake-weighted median; quorum; in-consensus/outlier standing
- [x] paginated finalization anyone can crank: slashing, ranking, trainer and validator rewards,
  delegator rewards through a per-operator reward index
- [x] claims in cw20 on this chain
- [ ] withdraw to an EVM address: comes with the arena-bridge contract
- [x] admin limited to pausing and handing the role on; cw2 migration

Bounded gas: `Assign` samples with a Fenwick tree over validator slots (log2 of 4096 reads per
draw), `Finalize` works on at most `limit` items per call, and no message iterates the
participants of a task or the past rounds.
*/

pub mod admin;
pub mod contract;
pub mod error;
pub mod finalize;
pub mod msg;
pub mod query;
pub mod round;
pub mod stake;
pub mod state;
pub mod task;

#[cfg(test)]
mod testing;

pub use crate::error::ContractError;
