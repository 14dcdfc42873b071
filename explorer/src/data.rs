//! Typed reads over a [`Source`], counted: each page says how many smart queries it cost.
//!
//! The explorer keeps no database: every page reads the contracts' own queries. Lists are read a
//! page at a time (the contracts answer at most 100 items per query), so a page costs a bounded
//! number of queries whatever the history length.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use arena_types::market::msg::QueryMsg as MarketQuery;
use arena_types::settlement::msg::QueryMsg as BridgeQuery;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::source::{Contract, Source, SourceError, TxPage};

/// The most items one contract query answers (both contracts' `MAX_LIMIT`).
pub const QUERY_PAGE: u32 = 100;

/// One page's reads: the source and the number of queries sent so far.
pub struct Reader<'a, S> {
    source: &'a S,
    queries: AtomicU32,
}

impl<'a, S: Source> Reader<'a, S> {
    pub fn new(source: &'a S) -> Self {
        Reader { source, queries: AtomicU32::new(0) }
    }

    pub fn source(&self) -> &'a S {
        self.source
    }

    /// Smart queries and transaction searches sent through this reader.
    pub fn queries(&self) -> u32 {
        self.queries.load(Ordering::Relaxed)
    }

    /// Serializes `msg` at once (so the returned future borrows nothing of it), then queries.
    fn query<Q: Serialize, R: DeserializeOwned>(
        &self,
        contract: Contract,
        msg: &Q,
    ) -> impl Future<Output = Result<R, SourceError>> + Send + '_ {
        let msg = serde_json::to_value(msg).map_err(|e| SourceError::Upstream(format!("query message: {e}")));
        async move {
            let msg = msg?;
            self.queries.fetch_add(1, Ordering::Relaxed);
            let answer = self.source.smart(contract, msg).await?;
            serde_json::from_value(answer).map_err(|e| {
                SourceError::Upstream(format!(
                    "cannot read {}'s answer as {}: {e}",
                    contract.package(),
                    std::any::type_name::<R>()
                ))
            })
        }
    }

    pub fn market<R: DeserializeOwned>(
        &self,
        msg: &MarketQuery,
    ) -> impl Future<Output = Result<R, SourceError>> + Send + '_ {
        self.query(Contract::Market, msg)
    }

    pub fn bridge<R: DeserializeOwned>(
        &self,
        msg: &BridgeQuery,
    ) -> impl Future<Output = Result<R, SourceError>> + Send + '_ {
        self.query(Contract::Bridge, msg)
    }

    /// One page of a search of the node's transaction index (counted as a query).
    pub fn search_txs(
        &self,
        query: String,
        page: u32,
        per_page: u32,
    ) -> impl Future<Output = Result<TxPage, SourceError>> + Send + '_ {
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.source.search_txs(query, page, per_page)
    }

    /// Whether the deployment has a bridge to read.
    pub fn has_bridge(&self) -> bool {
        self.source.deployment().bridge.is_some()
    }
}

/// Not-found as `None`, every other failure kept.
pub fn optional<T>(result: Result<T, SourceError>) -> Result<Option<T>, SourceError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(SourceError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
