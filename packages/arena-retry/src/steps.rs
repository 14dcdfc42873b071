//! The step contract of Arena's long-running loops (the relayer's settlement loop, the
//! gpu-worker's trainer, validator and creator), after Hermes's worker tasks: a loop runs one
//! [`Step`] at a time; the step returns [`Next::Continue`] (wait, then step again) or
//! [`Next::Done`] (the loop ends with `Ok`); an error that is not [fatal](ErrorClass::Fatal) is
//! logged and the loop steps again when its [`Pace`] says so; a fatal error ends the loop with
//! that error. A step reads the world afresh each time, so trying again after a refusal is
//! sound: the next step may find the phase moved on and do something else.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use crate::{Backoff, Classify, Delays, ErrorClass};

/// What the loop does after a step that succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Wait as the pace says, then step again.
    Continue,
    /// The work is done: the loop ends with `Ok`.
    Done,
}

/// How the last step went, for the [`Pace`] to choose the wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The step returned [`Next::Continue`].
    Succeeded,
    /// The step failed with an error that is not fatal.
    Failed,
}

/// One step of a loop's work.
pub trait Step {
    /// What a step may fail with; its [`Classify`] impl decides whether the loop goes on.
    type Error: Classify + Display;

    /// Does one step.
    fn step(&mut self) -> impl Future<Output = Result<Next, Self::Error>>;
}

/// A closure as a [`Step`] (see [`step_fn`]).
pub struct StepFn<F>(F);

/// Makes a [`Step`] of a closure that returns the step's future.
pub fn step_fn<F, Fut, E>(f: F) -> StepFn<F>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Next, E>>,
    E: Classify + Display,
{
    StepFn(f)
}

impl<F, Fut, E> Step for StepFn<F>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Next, E>>,
    E: Classify + Display,
{
    type Error = E;

    fn step(&mut self) -> impl Future<Output = Result<Next, E>> {
        (self.0)()
    }
}

impl<S: Step> Step for &mut S {
    type Error = S::Error;

    fn step(&mut self) -> impl Future<Output = Result<Next, S::Error>> {
        (**self).step()
    }
}

/// When the next step runs.
pub trait Pace {
    /// Waits until the next step is due, given how the last one went.
    fn wait(&mut self, after: Outcome) -> impl Future<Output = ()>;
}

/// Steps every `interval`; after consecutive failures, waits along
/// [`Backoff::loop_errors`]`(interval)` instead, starting over after a success.
#[derive(Clone, Debug)]
pub struct Every {
    interval: Duration,
    errors: Backoff,
    delays: Delays,
}

impl Every {
    /// A step every `interval`.
    pub fn new(interval: Duration) -> Self {
        let errors = Backoff::loop_errors(interval);
        Every { interval, errors, delays: errors.delays() }
    }

    /// How long the wait after a step that went `after` is; a call counts as that wait.
    pub fn next_delay(&mut self, after: Outcome) -> Duration {
        match after {
            Outcome::Succeeded => {
                self.delays = self.errors.delays();
                self.interval
            }
            Outcome::Failed => self.delays.next().unwrap_or(self.errors.max),
        }
    }
}

impl Pace for Every {
    async fn wait(&mut self, after: Outcome) {
        tokio::time::sleep(self.next_delay(after)).await
    }
}

/// Runs `step` under the contract until it is done (`Ok`) or fails fatally (that error).
/// `name` labels the loop's log lines.
pub async fn run_steps<S: Step, P: Pace>(name: &str, mut pace: P, mut step: S) -> Result<(), S::Error> {
    loop {
        let outcome = match step.step().await {
            Ok(Next::Continue) => Outcome::Succeeded,
            Ok(Next::Done) => {
                tracing::info!(task = name, "done");
                return Ok(());
            }
            Err(e) if e.class() == ErrorClass::Fatal => {
                tracing::error!(task = name, error = %e, "stopped: this needs an operator");
                return Err(e);
            }
            Err(e) => {
                tracing::warn!(task = name, error = %e, "step failed; will try again");
                Outcome::Failed
            }
        };
        pace.wait(outcome).await;
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;

    use super::*;
    use crate::testing::Failure;

    /// A step that plays back a script of results and records when each step ran.
    struct Script {
        results: Vec<Result<Next, Failure>>,
        started: Instant,
        at_ms: Vec<u128>,
    }

    impl Step for Script {
        type Error = Failure;

        async fn step(&mut self) -> Result<Next, Failure> {
            self.at_ms.push(self.started.elapsed().as_millis());
            self.results.remove(0)
        }
    }

    fn script(results: Vec<Result<Next, Failure>>) -> Script {
        Script { results, started: Instant::now(), at_ms: Vec::new() }
    }

    #[tokio::test(start_paused = true)]
    async fn failures_back_off_a_success_resets_and_done_ends_the_loop() {
        use ErrorClass::*;
        let mut steps = script(vec![
            Err(Failure(Transient)),
            Err(Failure(Refused)),
            Ok(Next::Continue),
            Err(Failure(Transient)),
            Ok(Next::Done),
        ]);
        run_steps("test", Every::new(Duration::from_millis(100)), &mut steps).await.unwrap();
        // Waits: 100 (1st failure), 200 (2nd), 100 (success), 100 (1st failure again).
        assert_eq!(steps.at_ms, [0, 100, 300, 400, 500]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_fatal_error_ends_the_loop_with_that_error() {
        let mut steps = script(vec![Ok(Next::Continue), Err(Failure(ErrorClass::Fatal)), Ok(Next::Continue)]);
        let result = run_steps("test", Every::new(Duration::from_millis(10)), &mut steps).await;
        assert_eq!(result, Err(Failure(ErrorClass::Fatal)));
        assert_eq!(steps.at_ms.len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_closure_is_a_step() {
        let mut calls = 0;
        let step = step_fn(|| {
            calls += 1;
            let n = calls;
            async move { Ok::<_, Failure>(if n < 3 { Next::Continue } else { Next::Done }) }
        });
        run_steps("test", Every::new(Duration::from_millis(10)), step).await.unwrap();
        assert_eq!(calls, 3);
    }
}
