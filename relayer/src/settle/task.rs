//! Worker loops on tokio tasks with Hermes's step contract: a step returns [`Next::Continue`]
//! (pause `interval`, run again), [`Next::Abort`] (stop cleanly), [`TaskError::Ignore`] (log,
//! back off, run again) or [`TaskError::Fatal`] (stop with the error). The task is cancelled when
//! its [`TaskHandle`] drops.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::error::RelayerError;

/// What the loop does after a successful step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Pause, then run the step again.
    Continue,
    /// Stop the loop; the task ends with `Ok`.
    Abort,
}

/// A failed step.
#[derive(Debug)]
pub enum TaskError {
    /// Logged; the step runs again after the next delay of the back-off.
    Ignore(RelayerError),
    /// Logged; the loop stops and the task ends with this error.
    Fatal(RelayerError),
}

/// Delays after consecutive ignored errors: the poll interval, doubling, at most 30 s, forever.
/// A success resets it.
pub fn error_backoff(interval: Duration) -> impl Iterator<Item = Duration> {
    let cap = Duration::from_secs(30).max(interval);
    std::iter::successors(Some(interval), move |d| Some((*d * 2).min(cap)))
}

/// A running loop. Dropping it cancels the task.
#[derive(Debug)]
pub struct TaskHandle {
    name: &'static str,
    handle: Option<JoinHandle<Result<(), RelayerError>>>,
}

impl TaskHandle {
    /// Waits for the loop to end (on `Abort` or a fatal error).
    pub async fn join(mut self) -> Result<(), RelayerError> {
        let handle = self.handle.take().expect("joined once");
        match handle.await {
            Ok(result) => result,
            Err(e) => Err(RelayerError::Config(format!("task {} panicked or was cancelled: {e}", self.name))),
        }
    }
}

impl Drop for TaskHandle {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
    }
}

/// Runs `step` in a loop on a tokio task under the step contract.
pub fn spawn_loop<F, Fut>(name: &'static str, interval: Duration, mut step: F) -> TaskHandle
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<Next, TaskError>> + Send,
{
    let handle = tokio::spawn(async move {
        let mut backoff = error_backoff(interval);
        loop {
            match step().await {
                Ok(Next::Continue) => {
                    backoff = error_backoff(interval);
                    tokio::time::sleep(interval).await;
                }
                Ok(Next::Abort) => {
                    tracing::info!(task = name, "stopped");
                    return Ok(());
                }
                Err(TaskError::Ignore(e)) => {
                    let delay = backoff.next().expect("the back-off never ends");
                    tracing::warn!(task = name, error = %e, ?delay, "step failed; retrying");
                    tokio::time::sleep(delay).await;
                }
                Err(TaskError::Fatal(e)) => {
                    tracing::error!(task = name, error = %e, "fatal error; the loop stops");
                    return Err(e);
                }
            }
        }
    });
    TaskHandle { name, handle: Some(handle) }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use super::*;

    #[test]
    fn error_backoff_delays_are_pinned() {
        let secs: Vec<f64> = error_backoff(Duration::from_secs(1)).take(8).map(|d| d.as_secs_f64()).collect();
        assert_eq!(secs, [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]);
        let ms: Vec<u128> = error_backoff(Duration::from_millis(200)).take(3).map(|d| d.as_millis()).collect();
        assert_eq!(ms, [200, 400, 800]);
    }

    #[tokio::test(start_paused = true)]
    async fn ignored_errors_are_retried_and_abort_ends_the_loop() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let handle = spawn_loop("test", Duration::from_millis(10), move || {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                match n {
                    1 | 2 => Err(TaskError::Ignore(RelayerError::Rpc("down".into()))),
                    3 => Ok(Next::Continue),
                    _ => Ok(Next::Abort),
                }
            }
        });
        handle.join().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_fatal_error_stops_the_loop_with_that_error() {
        let handle = spawn_loop("test", Duration::from_millis(10), || async {
            Err(TaskError::Fatal(RelayerError::Config("bad".into())))
        });
        assert!(matches!(handle.join().await, Err(RelayerError::Config(m)) if m == "bad"));
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_handle_cancels_the_task() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let handle = spawn_loop("test", Duration::from_millis(10), move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Ok(Next::Continue) }
        });
        tokio::time::sleep(Duration::from_millis(35)).await;
        drop(handle);
        let seen = calls.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(calls.load(Ordering::SeqCst), seen);
    }
}
