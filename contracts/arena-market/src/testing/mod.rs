//! Multi-contract tests: the market against the real arena-token (cw20-base) in cw-multi-test.

mod attacks;
mod bad_input;
mod delegation;
mod fair_play;
mod helpers;
mod properties;
mod queries;
mod round;
mod scale;
mod slashing;
mod task_kind;
mod whole_task;
mod withdraw_to_evm;
