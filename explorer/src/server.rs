//! The router: pages, their JSON twins under `/api/`, the live head, the assets, and every
//! failure as a page of its own (400 malformed input, 404 nothing there, 502 an answer the
//! explorer cannot read, 503 the chain unreachable); nothing panics on input.

use std::sync::Arc;

use arena_client::cosmrs::AccountId;
use arena_types::market::msg::{QueryMsg, SubmissionResponse, TaskResponse, TasksResponse};
use arena_types::settlement::msg::{BatchResponse, QueryMsg as BridgeQuery};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use futures::future::join_all;
use maud::Markup;
use serde::Serialize;

use crate::data::{optional, Reader};
use crate::pages;
use crate::source::{Source, SourceError};
use crate::view::{self, ChainView};

const CSS: &str = include_str!("../assets/explorer.css");
const JS: &str = include_str!("../assets/explorer.js");

/// What a handler can fail with, and the status it answers.
#[derive(Debug)]
pub enum PageError {
    /// 400: the input is not what the page takes (a malformed address, a non-number).
    BadRequest(String),
    /// 404.
    NotFound(String),
    /// 503: the chain cannot be reached.
    Unavailable(String),
    /// 502: the chain answered something the explorer cannot read.
    Upstream(String),
}

impl From<SourceError> for PageError {
    fn from(e: SourceError) -> Self {
        match e {
            SourceError::NotFound(m) => PageError::NotFound(m),
            SourceError::Unavailable(m) => PageError::Unavailable(m),
            SourceError::Upstream(m) => PageError::Upstream(m),
        }
    }
}

impl PageError {
    fn parts(&self) -> (StatusCode, &'static str, &str) {
        match self {
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Not understood", m),
            PageError::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m),
            PageError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, "Chain unreachable", m),
            PageError::Upstream(m) => (StatusCode::BAD_GATEWAY, "Unexpected answer", m),
        }
    }
}

/// The explorer's state shared by every handler.
pub struct App<S> {
    pub source: S,
}

type AppState<S> = State<Arc<App<S>>>;

/// The whole site over `source`.
pub fn router<S: Source>(source: S) -> Router {
    let app = Arc::new(App { source });
    Router::new()
        .route("/", get(overview_page::<S>))
        .route("/task/{id}", get(task_page::<S>))
        .route("/task/{id}/submission/{sid}", get(submission_page::<S>))
        .route("/address/{address}", get(address_page::<S>))
        .route("/settlement", get(settlement_page::<S>))
        .route("/batch/{id}", get(batch_page::<S>))
        .route("/search", get(search::<S>))
        .route("/api/head", get(api_head::<S>))
        .route("/api/overview", get(api_overview::<S>))
        .route("/api/task/{id}", get(api_task::<S>))
        .route("/api/task/{id}/submission/{sid}", get(api_submission::<S>))
        .route("/api/address/{address}", get(api_address::<S>))
        .route("/api/settlement", get(api_settlement::<S>))
        .route("/api/batch/{id}", get(api_batch::<S>))
        .route("/assets/explorer.css", get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS) }))
        .route(
            "/assets/explorer.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], JS) }),
        )
        .fallback(not_found::<S>)
        .with_state(app)
}

fn chain_of<S: Source>(app: &App<S>) -> ChainView {
    ChainView::new(&app.source.deployment().chain_id, &app.source.head())
}

fn html_response<S: Source>(app: &App<S>, result: Result<Markup, PageError>) -> Response {
    match result {
        Ok(markup) => Html(markup.into_string()).into_response(),
        Err(e) => {
            let (status, title, message) = e.parts();
            let chain = chain_of(app);
            (status, Html(pages::error_page(status.as_u16(), title, message, Some(&chain)).into_string()))
                .into_response()
        }
    }
}

fn json_response<T: Serialize>(result: Result<T, PageError>) -> Response {
    let (status, body) = match result {
        Ok(v) => (StatusCode::OK, serde_json::to_string(&v)),
        Err(e) => {
            let (status, _, message) = e.parts();
            (status, serde_json::to_string(&serde_json::json!({ "error": message, "status": status.as_u16() })))
        }
    };
    let body = body.unwrap_or_else(|e| format!("{{\"error\":\"cannot encode the answer: {e}\"}}"));
    (status, [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

/// `key=value` pairs of a query string (values are numbers or simple words; `+` is a space).
fn param<'a>(query: &'a Option<String>, key: &str) -> Option<std::borrow::Cow<'a, str>> {
    query.as_deref()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['%', '+']) {
        return s.into();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned().into()
}

fn number<T: std::str::FromStr>(what: &str, text: &str) -> Result<T, PageError> {
    text.trim()
        .parse()
        .map_err(|_| PageError::NotFound(format!("{what} {text:?} is not a number, so there is no such {what}")))
}

fn optional_number<T: std::str::FromStr>(query: &Option<String>, key: &str) -> Result<Option<T>, PageError> {
    match param(query, key) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| PageError::BadRequest(format!("?{key}={v} is not a number"))),
    }
}

// ---------------------------------------------------------------------------------------------
// Data, shared by the page and its JSON twin.

async fn overview_data<S: Source>(app: &App<S>, query: &Option<String>) -> Result<view::Overview, PageError> {
    let after = optional_number(query, "after")?;
    Ok(view::overview(&Reader::new(&app.source), after).await?)
}

async fn task_data<S: Source>(app: &App<S>, id: &str, query: &Option<String>) -> Result<view::TaskView, PageError> {
    let id = number("task", id)?;
    let round = optional_number(query, "round")?;
    let start = match (optional_number(query, "after_rank")?, optional_number(query, "after")?) {
        (None, None) => view::PageStart::First,
        (Some(rank), None) => view::PageStart::AfterRank(rank),
        (None, Some(id)) => view::PageStart::AfterId(id),
        (Some(_), Some(_)) => {
            return Err(PageError::BadRequest("a leaderboard page starts ?after_rank= or ?after=, not both".into()))
        }
    };
    Ok(view::task(&Reader::new(&app.source), id, round, start).await?)
}

async fn submission_data<S: Source>(app: &App<S>, id: &str, sid: &str) -> Result<view::SubmissionView, PageError> {
    let (id, sid) = (number("task", id)?, number("submission", sid)?);
    Ok(view::submission(&Reader::new(&app.source), id, sid).await?)
}

/// What kind of address a path names.
#[derive(Debug, PartialEq, Eq)]
pub enum AddressKind {
    /// An account of this chain.
    Cosmos(String),
    /// An EVM address (a withdrawal recipient).
    Evm(String),
}

/// Checks an address: bech32 with this chain's prefix, or `0x` and 40 hex digits.
pub fn classify_address(text: &str, prefix: &str) -> Result<AddressKind, String> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return if hex.len() == 40 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(AddressKind::Evm(format!("0x{hex}")))
        } else {
            Err(format!("{text:?} is not an EVM address: it needs 0x and 40 hex digits"))
        };
    }
    match text.parse::<AccountId>() {
        Ok(id) if id.prefix() == prefix => Ok(AddressKind::Cosmos(id.to_string())),
        Ok(id) => {
            Err(format!("{text} is an address of another chain: prefix {:?}, this chain uses {prefix:?}", id.prefix()))
        }
        Err(e) => Err(format!("{text:?} is not an address of this chain ({prefix}1…) nor an EVM address (0x…): {e}")),
    }
}

enum AddressData {
    Cosmos(view::ParticipantView),
    Evm(view::RecipientView),
}

async fn address_data<S: Source>(
    app: &App<S>,
    address: &str,
    query: &Option<String>,
) -> Result<AddressData, PageError> {
    let reader = Reader::new(&app.source);
    match classify_address(address, &app.source.deployment().bech32_prefix).map_err(PageError::BadRequest)? {
        AddressKind::Cosmos(a) => {
            let page = optional_number(query, "withdrawals_page")?.unwrap_or(1);
            if page == 0 {
                return Err(PageError::BadRequest("?withdrawals_page= counts from 1".into()));
            }
            Ok(AddressData::Cosmos(view::participant(&reader, &a, page).await?))
        }
        AddressKind::Evm(a) => Ok(AddressData::Evm(view::recipient(&reader, &a).await?)),
    }
}

async fn settlement_data<S: Source>(app: &App<S>, query: &Option<String>) -> Result<view::SettlementView, PageError> {
    let before = optional_number(query, "before")?;
    Ok(view::settlement(&Reader::new(&app.source), before).await?)
}

async fn batch_data<S: Source>(app: &App<S>, id: &str, query: &Option<String>) -> Result<view::BatchView, PageError> {
    let id = number("batch", id)?;
    Ok(view::batch(&Reader::new(&app.source), id, optional_number(query, "after")?).await?)
}

// ---------------------------------------------------------------------------------------------
// Pages

async fn overview_page<S: Source>(State(app): AppState<S>, RawQuery(q): RawQuery) -> Response {
    let result = overview_data(&app, &q).await.map(|v| pages::overview(&v));
    html_response(&app, result)
}

async fn task_page<S: Source>(State(app): AppState<S>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    let result = task_data(&app, &id, &q).await.map(|v| pages::task(&v));
    html_response(&app, result)
}

async fn submission_page<S: Source>(State(app): AppState<S>, Path((id, sid)): Path<(String, String)>) -> Response {
    let result = submission_data(&app, &id, &sid).await.map(|v| pages::submission(&v));
    html_response(&app, result)
}

async fn address_page<S: Source>(
    State(app): AppState<S>,
    Path(address): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let result = address_data(&app, &address, &q).await.map(|v| match v {
        AddressData::Cosmos(v) => pages::participant(&v),
        AddressData::Evm(v) => pages::recipient(&v),
    });
    html_response(&app, result)
}

async fn settlement_page<S: Source>(State(app): AppState<S>, RawQuery(q): RawQuery) -> Response {
    let result = settlement_data(&app, &q).await.map(|v| pages::settlement(&v));
    html_response(&app, result)
}

async fn batch_page<S: Source>(State(app): AppState<S>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    let result = batch_data(&app, &id, &q).await.map(|v| pages::batch(&v));
    html_response(&app, result)
}

async fn not_found<S: Source>(State(app): AppState<S>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let message = format!("there is no page at {}", uri.path());
    let wants_json = uri.path().starts_with("/api/")
        || headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("json"));
    if wants_json {
        json_response::<()>(Err(PageError::NotFound(message)))
    } else {
        html_response(&app, Err(PageError::NotFound(message)))
    }
}

/// Where a search goes: one place (a redirect), several (a list), or none (404 with the forms
/// a search takes).
pub async fn search_targets<S: Source>(app: &App<S>, q: &str) -> Result<Vec<(String, String)>, PageError> {
    let q = q.trim();
    let reader = Reader::new(&app.source);
    let lower = q.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == '/' || c == ':' || c == '#')
        .filter(|w| !w.is_empty())
        .collect();
    let numbers: Vec<u64> = words.iter().filter_map(|w| w.parse().ok()).collect();
    if let Ok(kind) = classify_address(q, &app.source.deployment().bech32_prefix) {
        let a = match kind {
            AddressKind::Cosmos(a) | AddressKind::Evm(a) => a,
        };
        return Ok(vec![(format!("/address/{a}"), format!("address {a}"))]);
    }
    let task_exists = |id: u64| {
        let reader = &reader;
        async move { optional(reader.market::<TaskResponse>(&QueryMsg::Task { task_id: id }).await) }
    };
    let batch_exists = |id: u64| {
        let reader = &reader;
        async move {
            if !reader.has_bridge() {
                return Ok(None);
            }
            optional(reader.bridge::<BatchResponse>(&BridgeQuery::Batch { batch_id: id }).await)
        }
    };
    let mut links = Vec::new();
    match (words.first().copied(), numbers.as_slice()) {
        (Some("batch"), [id]) => {
            links.extend(batch_exists(*id).await?.map(|_| (format!("/batch/{id}"), format!("batch {id}"))));
        }
        (Some("task"), [id]) => {
            links.extend(task_exists(*id).await?.map(|_| (format!("/task/{id}"), format!("task {id}"))));
        }
        (_, [task, sub]) if words.len() <= 4 => {
            let s = reader
                .market::<SubmissionResponse>(&QueryMsg::Submission { task_id: *task, submission_id: *sub })
                .await;
            if optional(s)?.is_some() {
                links.push((format!("/task/{task}/submission/{sub}"), format!("submission {sub} of task {task}")));
            }
        }
        (Some(_), [n]) if words.len() == 1 || words.first() == Some(&"submission") => {
            let n = *n;
            let tasks: TasksResponse =
                reader.market(&QueryMsg::Tasks { start_after: None, limit: Some(view::TASKS_PAGE) }).await?;
            let (task, batch, subs) = futures::join!(
                task_exists(n),
                batch_exists(n),
                join_all(tasks.tasks.iter().map(|t| {
                    let reader = &reader;
                    async move {
                        let s = reader
                            .market::<SubmissionResponse>(&QueryMsg::Submission { task_id: t.id, submission_id: n })
                            .await;
                        optional(s).map(|s| s.map(|_| t.id))
                    }
                }))
            );
            if words.first() != Some(&"submission") {
                if task?.is_some() {
                    links.push((format!("/task/{n}"), format!("task {n}")));
                }
                if batch?.is_some() {
                    links.push((format!("/batch/{n}"), format!("batch {n}")));
                }
            }
            for task_id in subs.into_iter().collect::<Result<Vec<_>, _>>()?.into_iter().flatten() {
                links.push((format!("/task/{task_id}/submission/{n}"), format!("submission {n} of task {task_id}")));
            }
        }
        _ => {}
    }
    Ok(links)
}

async fn search<S: Source>(State(app): AppState<S>, RawQuery(query): RawQuery) -> Response {
    let q = param(&query, "q").map(|q| q.into_owned()).unwrap_or_default();
    match search_targets(&app, &q).await {
        Ok(links) if links.len() == 1 => Redirect::to(&links[0].0).into_response(),
        Ok(links) => {
            let status = if links.is_empty() { StatusCode::NOT_FOUND } else { StatusCode::OK };
            let chain = chain_of(&app);
            (status, Html(pages::search_results(&q, &links, Some(&chain)).into_string())).into_response()
        }
        Err(e) => html_response(&app, Err(e)),
    }
}

// ---------------------------------------------------------------------------------------------
// JSON API

/// The head as `/api/head` answers it: what the live script polls.
#[derive(Serialize)]
struct HeadAnswer {
    #[serde(flatten)]
    chain: ChainView,
    relayers: Vec<RelayerUp>,
}

#[derive(Serialize)]
struct RelayerUp {
    endpoint: String,
    up: bool,
}

async fn api_head<S: Source>(State(app): AppState<S>) -> Response {
    let relayers =
        app.source.relayers().into_iter().map(|r| RelayerUp { up: r.status.is_ok(), endpoint: r.endpoint }).collect();
    json_response(Ok(HeadAnswer { chain: chain_of(&app), relayers }))
}

async fn api_overview<S: Source>(State(app): AppState<S>, RawQuery(q): RawQuery) -> Response {
    json_response(overview_data(&app, &q).await)
}

async fn api_task<S: Source>(State(app): AppState<S>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    json_response(task_data(&app, &id, &q).await)
}

async fn api_submission<S: Source>(State(app): AppState<S>, Path((id, sid)): Path<(String, String)>) -> Response {
    json_response(submission_data(&app, &id, &sid).await)
}

async fn api_address<S: Source>(
    State(app): AppState<S>,
    Path(address): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    match address_data(&app, &address, &q).await {
        Ok(AddressData::Cosmos(v)) => json_response(Ok(v)),
        Ok(AddressData::Evm(v)) => json_response(Ok(v)),
        Err(e) => json_response::<()>(Err(e)),
    }
}

async fn api_settlement<S: Source>(State(app): AppState<S>, RawQuery(q): RawQuery) -> Response {
    json_response(settlement_data(&app, &q).await)
}

async fn api_batch<S: Source>(State(app): AppState<S>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Response {
    json_response(batch_data(&app, &id, &q).await)
}

#[cfg(test)]
mod tests;
