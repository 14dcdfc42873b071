//! The settlement loop on a tokio task, under the step contract every Arena loop follows
//! ([`arena_retry::run_steps`]): a step returns [`Next::Continue`] (pause the poll interval, run
//! again) or [`Next::Done`] (stop cleanly); a failure is logged and the step runs again after
//! [`arena_retry::Backoff::loop_errors`], unless [`RelayerError`]'s classification calls it
//! fatal (then the loop stops with it). The task is cancelled when its [`TaskHandle`] drops.

use std::future::Future;
use std::time::Duration;

pub use arena_retry::Next;
use arena_retry::{run_steps, step_fn, Every};
use tokio::task::JoinHandle;

use crate::error::RelayerError;

/// A running loop. Dropping it cancels the task.
#[derive(Debug)]
pub struct TaskHandle {
    name: &'static str,
    handle: Option<JoinHandle<Result<(), RelayerError>>>,
}

impl TaskHandle {
    /// Waits for the loop to end (when a step returns `Done` or fails fatally).
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

/// Runs `step` every `interval` on a tokio task under the step contract.
pub fn spawn_loop<F, Fut>(name: &'static str, interval: Duration, step: F) -> TaskHandle
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<Next, RelayerError>> + Send,
{
    let handle = tokio::spawn(run_steps(name, Every::new(interval), step_fn(step)));
    TaskHandle { name, handle: Some(handle) }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn failed_steps_are_retried_and_done_ends_the_loop() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let handle = spawn_loop("test", Duration::from_millis(10), move || {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                match n {
                    1 | 2 => Err(RelayerError::Rpc("down".into())),
                    3 => Ok(Next::Continue),
                    _ => Ok(Next::Done),
                }
            }
        });
        handle.join().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_fatal_error_stops_the_loop_with_that_error() {
        let handle =
            spawn_loop("test", Duration::from_millis(10), || async { Err(RelayerError::Config("bad".into())) });
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
