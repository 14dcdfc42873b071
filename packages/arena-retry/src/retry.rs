//! One request, sent again while it fails with a transient error.

use std::fmt::Display;
use std::future::Future;

use crate::{Backoff, Classify};

/// Runs `op` until it succeeds, fails with an error that is not
/// [transient](crate::ErrorClass::Transient), or `policy` runs out of retries (then the last
/// error is returned). Each retry is logged with `what` and the error.
pub async fn retry<T, E, F, Fut>(what: &str, policy: Backoff, mut op: F) -> Result<T, E>
where
    E: Classify + Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut delays = policy.delays();
    loop {
        match op().await {
            Err(e) if e.is_transient() => match delays.next() {
                Some(delay) => {
                    tracing::warn!(error = %e, ?delay, "{what} failed; retrying");
                    tokio::time::sleep(delay).await;
                }
                None => return Err(e),
            },
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::testing::Failure;
    use crate::ErrorClass;

    #[tokio::test(start_paused = true)]
    async fn transient_errors_are_retried_until_success() {
        let mut calls = 0;
        let started = tokio::time::Instant::now();
        let result = retry("probe", Backoff::REQUEST, || {
            calls += 1;
            let n = calls;
            async move {
                if n < 3 {
                    Err(Failure(ErrorClass::Transient))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(result, Ok(3));
        assert_eq!(started.elapsed(), Duration::from_millis(600), "slept 200 + 400 ms");
    }

    #[tokio::test(start_paused = true)]
    async fn refused_and_fatal_errors_are_returned_at_once() {
        for class in [ErrorClass::Refused, ErrorClass::Fatal] {
            let mut calls = 0;
            let result: Result<(), _> = retry("probe", Backoff::REQUEST, || {
                calls += 1;
                async move { Err(Failure(class)) }
            })
            .await;
            assert_eq!(result, Err(Failure(class)));
            assert_eq!(calls, 1);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_error_is_returned_when_the_policy_runs_out() {
        let mut calls = 0;
        let policy = Backoff { retries: Some(2), ..Backoff::REQUEST };
        let result: Result<(), _> = retry("probe", policy, || {
            calls += 1;
            async { Err(Failure(ErrorClass::Transient)) }
        })
        .await;
        assert_eq!(result, Err(Failure(ErrorClass::Transient)));
        assert_eq!(calls, 3);
    }
}
