/*!
How Arena's services meet failure, decided once for the chain client, the EVM client, the relayer
and the gpu-worker's nodes:

- [`ErrorClass`]: what a failure means for the caller. Each error type says which class each of
  its cases falls in by implementing [`Classify`] next to its definition, so what is transient
  is decided in one place per error type (`arena_client::ClientError` for everything that talks
  to the chain) and every caller agrees.
- [`Backoff`]: how long to wait between tries, with the policies Arena uses as named
  constructors ([`Backoff::REQUEST`], [`Backoff::loop_errors`]).
- [`retry`]: one request, sent again while it fails with a [`ErrorClass::Transient`] error.
- [`run_steps`]: the step contract of every long-running loop: a [`Step`] returns
  [`Next::Continue`] or [`Next::Done`]; a failure that is not [`ErrorClass::Fatal`] is logged
  and the loop goes on after its [`Pace`] says so; a fatal one stops the loop with that error.
*/

mod backoff;
mod class;
mod retry;
mod steps;
#[cfg(test)]
mod testing;

pub use backoff::{Backoff, Delays};
pub use class::{Classify, ErrorClass};
pub use retry::retry;
pub use steps::{run_steps, step_fn, Every, Next, Outcome, Pace, Step, StepFn};
