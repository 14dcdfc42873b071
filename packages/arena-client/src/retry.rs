//! Retrying what may succeed later (a node restarting, a sequence another transaction advanced),
//! on a policy whose delays are pinned by a test.

use std::future::Future;
use std::time::Duration;

use crate::error::ClientError;

/// Delays before each retry: 200 ms, doubling up to 5 s, ten retries (about 31 s in all), which
/// rides out a node restart (1–5 s here) with room to spare.
pub fn default_backoff() -> impl Iterator<Item = Duration> {
    std::iter::successors(Some(Duration::from_millis(200)), |d| Some((*d * 2).min(Duration::from_secs(5)))).take(10)
}

/// Runs `op` until it succeeds, fails with an error that is not [retryable](ClientError::is_retryable),
/// or `backoff` runs out (then the last error is returned).
pub async fn retry<T, F, Fut>(
    what: &str,
    backoff: impl IntoIterator<Item = Duration>,
    mut op: F,
) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClientError>>,
{
    let mut delays = backoff.into_iter();
    loop {
        match op().await {
            Err(e) if e.is_retryable() => match delays.next() {
                Some(delay) => {
                    tracing::warn!(%e, ?delay, "{what} failed; retrying");
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
    use super::*;

    #[test]
    fn backoff_delays_are_pinned() {
        let ms: Vec<u128> = default_backoff().map(|d| d.as_millis()).collect();
        assert_eq!(ms, [200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000, 5000]);
    }

    fn unreachable() -> ClientError {
        ClientError::NodeUnreachable { url: "http://127.0.0.1:1".into(), reason: "refused".into() }
    }

    #[tokio::test(start_paused = true)]
    async fn retryable_errors_are_retried_until_success() {
        let mut calls = 0;
        let result = retry("probe", default_backoff(), || {
            calls += 1;
            let n = calls;
            async move {
                if n < 3 {
                    Err(unreachable())
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(result.unwrap(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_are_returned_at_once() {
        let mut calls = 0;
        let result: Result<(), _> = retry("probe", default_backoff(), || {
            calls += 1;
            async { Err(ClientError::AccountNotFound { address: "inj1x".into() }) }
        })
        .await;
        assert!(matches!(result, Err(ClientError::AccountNotFound { .. })));
        assert_eq!(calls, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_error_is_returned_when_the_policy_runs_out() {
        let mut calls = 0;
        let result: Result<(), _> = retry("probe", [Duration::from_millis(1); 2], || {
            calls += 1;
            async { Err(unreachable()) }
        })
        .await;
        assert!(matches!(result, Err(ClientError::NodeUnreachable { .. })));
        assert_eq!(calls, 3);
    }
}
