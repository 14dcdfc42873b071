//! Every page, its JSON twin and every kind of bad input through the router, on the fixture.

use axum::body::{to_bytes, Body};
use axum::http::Request;
use tower::ServiceExt;

use super::*;
use crate::fixture::{self, competition, FakeSource, RECIPIENT};

const HEIGHT: u64 = 280;

fn source() -> FakeSource {
    FakeSource::new(competition(2, 5, 4, HEIGHT), HEIGHT)
}

async fn get_from(source: FakeSource, path: &str) -> (StatusCode, String, String) {
    let response = router(source).oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let kind =
        response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let location = response.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_string());
    let body = String::from_utf8(to_bytes(response.into_body(), 1 << 24).await.unwrap().to_vec()).unwrap();
    (status, kind, location.unwrap_or(body))
}

async fn get(path: &str) -> (StatusCode, String, String) {
    get_from(source(), path).await
}

#[tokio::test]
async fn every_page_renders_with_its_data() {
    let (status, kind, body) = get("/").await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "text/html; charset=utf-8"));
    assert!(body.contains(r#"href="/task/1""#) && body.contains("accuracy_ppm"), "{body}");

    let (status, _, body) = get("/task/1?round=1").await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "id=\"leaderboard\"",
        "90.10%",
        "<svg",
        "id=\"validators\"",
        "id=\"phase\"",
        "submission",
        "50 blocks to model reveal",
    ] {
        assert!(body.contains(needle), "task page lacks {needle}");
    }
    let (status, _, body) = get("/task/1/submission/4").await;
    assert!(status == StatusCode::OK && body.contains("Outlier") && body.contains("id=\"scores\""));
    let (status, _, body) = get(&format!("/address/{}", fixture::trainer(0))).await;
    assert!(status == StatusCode::OK && body.contains("1.000000") && body.contains("trainer"), "{body}");
    let (status, _, body) = get(&format!("/address/{RECIPIENT}")).await;
    assert!(
        status == StatusCode::OK
            && body.contains("arena-relayer claim --batch 1")
            && body.contains("checks against the root")
    );
    let (status, _, body) = get("/settlement").await;
    assert!(
        status == StatusCode::OK
            && body.contains("sealed, attested 1 of 2")
            && body.contains("No relayer endpoint configured")
    );
    let (status, _, body) = get("/batch/1").await;
    assert!(status == StatusCode::OK && body.contains(RECIPIENT));
}

#[tokio::test]
async fn the_participant_page_lists_its_withdrawals_with_batch_proof_and_claim_command() {
    let mut world = competition(2, 5, 4, HEIGHT);
    fixture::withdraw(&mut world, &fixture::trainer(0), RECIPIENT, 300_000, 420);
    let path = format!("/address/{}", fixture::trainer(0));
    let (status, _, body) = get_from(FakeSource::new(world.clone(), HEIGHT), &path).await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "id=\"withdrawals\"",
        "data-withdrawal=\"3\"",
        "not sealed yet",
        r#"<a href="/batch/1">1</a>, leaf 0"#,
        "checks against the root",
        &format!("arena-relayer claim --batch 1 --key-file evm.key --recipient {RECIPIENT}"),
        "The 20 newest withdrawals a page, of 2 transactions found by the node's transaction index",
        "page 1 of 1",
    ] {
        assert!(body.contains(needle), "the participant page lacks {needle}: {body}");
    }
    let api = get_from(FakeSource::new(world.clone(), HEIGHT), &format!("/api{path}")).await.2;
    let api: serde_json::Value = serde_json::from_str(&api).unwrap();
    let rows = &api["withdrawals"]["rows"];
    assert_eq!((rows[0]["status"].as_str(), rows[0]["claim"].is_null()), (Some("not sealed yet"), true));
    assert_eq!(
        (rows[1]["claim"]["batch_id"].as_u64(), rows[1]["claim"]["proof_verified"].as_bool()),
        (Some(1), Some(true))
    );
    // Older pages are linked; a node without a transaction index still shows the rest, saying so.
    for k in 0..25 {
        fixture::withdraw(&mut world, &fixture::trainer(0), RECIPIENT, 1_000 + k, 430 + k as u64);
    }
    let (_, _, body) = get_from(FakeSource::new(world.clone(), HEIGHT), &path).await;
    assert!(body.contains(&format!(r#"href="{path}?withdrawals_page=2""#)) && body.contains("page 1 of 2"), "{body}");
    let mut no_index = FakeSource::new(world, HEIGHT);
    no_index.search_fail = Some(SourceError::Upstream("transaction indexing is disabled".into()));
    let (status, _, body) = get_from(no_index, &path).await;
    assert!(
        status == StatusCode::OK && body.contains("id=\"withdrawals-error\"") && body.contains("indexing is disabled")
    );
    assert!(body.contains("id=\"claimable\""));
}

#[tokio::test]
async fn pages_load_nothing_from_elsewhere_and_the_assets_are_served() {
    let (_, _, body) = get("/task/1").await;
    assert!(!body.contains("src=\"http") && !body.contains("href=\"http"), "every asset is the explorer's own");
    let (status, kind, css) = get("/assets/explorer.css").await;
    assert!(status == StatusCode::OK && kind.starts_with("text/css") && css.contains("prefers-color-scheme: dark"));
    let (status, kind, js) = get("/assets/explorer.js").await;
    assert!(status == StatusCode::OK && kind.starts_with("text/javascript") && js.contains("/api/head"));
}

#[tokio::test]
async fn the_api_mirrors_each_page() {
    let json = |body: &str| serde_json::from_str::<serde_json::Value>(body).unwrap();
    let (status, kind, body) = get("/api/overview").await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "application/json"));
    assert_eq!(json(&body)["tasks"][0]["phase"], "submission");
    let task = json(&get("/api/task/1?round=1").await.2);
    assert_eq!(task["leaderboard"][0]["consensus"], 901_000);
    assert_eq!(task["clock"]["remaining"], 50);
    assert!(task["queries"].as_u64().unwrap() > 0);
    assert_eq!(json(&get("/api/task/1/submission/2").await.2)["scores"].as_array().unwrap().len(), 3);
    assert_eq!(json(&get(&format!("/api/address/{}", fixture::trainer(1))).await.2)["claimable"], "500000");
    assert_eq!(json(&get(&format!("/api/address/{RECIPIENT}")).await.2)["claims"][0]["batch_id"], 1);
    assert_eq!(json(&get("/api/settlement").await.2)["batches"][0]["batch_id"], 2);
    assert_eq!(json(&get("/api/batch/2").await.2)["batch"]["count"], 1);
    let head = json(&get("/api/head").await.2);
    assert_eq!((head["height"].as_u64(), head["reachable"].as_bool()), (Some(HEIGHT), Some(true)));
}

#[tokio::test]
async fn the_leaderboard_pages_through_the_ranks_then_the_unranked_and_says_its_order() {
    let mut world = competition(2, 120, 4, HEIGHT);
    fixture::scramble_ranks(&mut world, 1, 6);
    let ranked = || FakeSource::new(world.clone(), HEIGHT);
    let rows = |body: &str| -> Vec<u64> {
        body.split("data-submission=\"").skip(1).filter_map(|r| r.split('"').next()?.parse().ok()).collect()
    };
    let rank_of = |id: u64| world.submissions.iter().find(|s| s.id == id).and_then(|s| s.rank);
    let (status, _, first) = get_from(ranked(), "/task/1?round=1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(first.contains("In rank order, best first"), "{first}");
    assert!(first.contains(r#"href="/task/1?round=1&amp;after_rank=49""#), "{first}");
    assert_eq!(rows(&first).into_iter().map(rank_of).collect::<Vec<_>>(), (0..50).map(Some).collect::<Vec<_>>());
    let (_, _, second) = get_from(ranked(), "/task/1?round=1&after_rank=49").await;
    assert_eq!(rows(&second).into_iter().map(rank_of).collect::<Vec<_>>(), (50..100).map(Some).collect::<Vec<_>>());
    assert!(second.contains(r#"href="/task/1?round=1&amp;after_rank=99""#) && second.contains("← first page"));
    let (_, _, third) = get_from(ranked(), "/task/1?round=1&after_rank=99").await;
    assert_eq!(rows(&third), (1..=20).map(|k| 6 * k).collect::<Vec<_>>());
    assert!(third.contains("Unrevealed") && third.contains("BelowBaseline") && !third.contains("next 50"));
    // The JSON twin, row for row.
    let api =
        serde_json::from_str::<serde_json::Value>(&get_from(ranked(), "/api/task/1?round=1&after_rank=49").await.2)
            .unwrap();
    let ids: Vec<u64> = api["leaderboard"].as_array().unwrap().iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!((ids, api["next_after_rank"].as_u64()), (rows(&second), Some(99)));
    // The running round: by id, and the page says when ranks come.
    let (_, _, running) = get_from(ranked(), "/task/1?round=2").await;
    assert!(running.contains("By submission id: ranks appear when the round is finalized."), "{running}");
    assert_eq!(rows(&running), (121..=170).collect::<Vec<_>>());
    assert!(running.contains(r#"href="/task/1?round=2&amp;after=170""#));
}

#[tokio::test]
async fn bad_input_gets_a_clear_page_with_the_fitting_status() {
    let withdrawals_page_0 = format!("/address/{}?withdrawals_page=0", fixture::trainer(0));
    let withdrawals_page_x = format!("/address/{}?withdrawals_page=x", fixture::trainer(0));
    let cases: [(&str, StatusCode, &str); 14] = [
        ("/task/99", StatusCode::NOT_FOUND, "task 99 not found"),
        ("/task/abc", StatusCode::NOT_FOUND, "is not a number"),
        ("/task/1?round=7", StatusCode::NOT_FOUND, "round 7 does not exist"),
        ("/task/1?round=x", StatusCode::BAD_REQUEST, "is not a number"),
        ("/task/1?round=1&after_rank=-1", StatusCode::BAD_REQUEST, "is not a number"),
        ("/task/1?round=1&after_rank=49&after=7", StatusCode::BAD_REQUEST, "not both"),
        ("/task/1/submission/999", StatusCode::NOT_FOUND, "submission 999"),
        ("/address/not-an-address", StatusCode::BAD_REQUEST, "is not an address of this chain"),
        ("/address/0x1234", StatusCode::BAD_REQUEST, "is not an EVM address"),
        ("/address/cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu", StatusCode::BAD_REQUEST, "another chain"),
        ("/batch/9", StatusCode::NOT_FOUND, "batch 9 does not exist"),
        (&withdrawals_page_0, StatusCode::BAD_REQUEST, "counts from 1"),
        (&withdrawals_page_x, StatusCode::BAD_REQUEST, "?withdrawals_page=x is not a number"),
        ("/no/such/page", StatusCode::NOT_FOUND, "there is no page at /no/such/page"),
    ];
    for (path, status, message) in cases {
        let (got, kind, body) = get(path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(kind.starts_with("text/html") && body.contains(message), "{path}: {body}");
    }
    let unknown = format!("/address/{}", fixture::address(77));
    let (status, _, body) = get(&unknown).await;
    assert!(
        status == StatusCode::NOT_FOUND && body.contains("has no stake, delegation, reward or withdrawal"),
        "{body}"
    );
    let (status, kind, body) = get("/api/task/99").await;
    assert_eq!((status, kind.as_str()), (StatusCode::NOT_FOUND, "application/json"));
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["status"], 404);
}

#[tokio::test]
async fn a_chain_that_went_away_answers_503_and_says_so() {
    let mut down = source();
    down.fail = Some(SourceError::Unavailable("transport error".into()));
    down.head.reachable = false;
    down.head.error = Some("Unavailable: connection refused".into());
    let (status, _, body) = get_from(down, "/task/1").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body.contains("Chain unreachable") && body.contains("connection refused") && body.contains("reloads itself")
    );

    let mut down = source();
    down.head.reachable = false;
    down.head.error = Some("Unavailable: connection refused".into());
    let (status, _, body) = get_from(down, "/api/head").await;
    let head: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!((status, head["reachable"].as_bool()), (StatusCode::OK, Some(false)));

    let mut garbled = source();
    garbled.fail = Some(SourceError::Upstream("cannot read the answer".into()));
    let (status, _, body) = get_from(garbled, "/").await;
    assert!(status == StatusCode::BAD_GATEWAY && body.contains("Unexpected answer"));
}

#[tokio::test]
async fn a_relayer_that_is_down_is_shown_as_unreachable_beside_those_up() {
    use crate::source::{RelayerState, RelayerStatus};
    let mut s = source();
    s.relayers = vec![
        RelayerState {
            endpoint: "http://127.0.0.1:1".into(),
            status: Ok(RelayerStatus { confirmed: 1, ..Default::default() }),
            last_seen: Some(1),
        },
        RelayerState { endpoint: "http://127.0.0.1:2".into(), status: Err("cannot reach it".into()), last_seen: None },
    ];
    let (status, _, body) = get_from(s, "/settlement").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("● up") && body.contains("● unreachable") && body.contains("cannot reach it"));
}

#[tokio::test]
async fn search_goes_to_the_one_match_or_lists_several() {
    let cases = [
        ("task+1", "/task/1"),
        ("batch%202", "/batch/2"),
        ("1%2F3", "/task/1/submission/3"),
        ("submission+4", "/task/1/submission/4"),
    ];
    for (q, to) in cases {
        let (status, _, location) = get(&format!("/search?q={q}")).await;
        assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, to), "{q}");
    }
    let (status, _, location) = get(&format!("/search?q={}", fixture::trainer(2))).await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, format!("/address/{}", fixture::trainer(2))));
    // 1 is a task, a batch and a submission.
    let (status, _, body) = get("/search?q=1").await;
    assert!(
        status == StatusCode::OK
            && body.contains("/task/1\"")
            && body.contains("/batch/1\"")
            && body.contains("/task/1/submission/1\"")
    );
    let (status, _, body) = get("/search?q=nothing+here").await;
    assert!(status == StatusCode::NOT_FOUND && body.contains("Nothing matches"));
}

#[test]
fn addresses_are_classified_by_form_and_prefix() {
    let a = fixture::trainer(0);
    assert_eq!(classify_address(&a, "inj"), Ok(AddressKind::Cosmos(a.clone())));
    assert_eq!(classify_address(RECIPIENT, "inj"), Ok(AddressKind::Evm(RECIPIENT.into())));
    assert!(classify_address(&a, "wasm").unwrap_err().contains("another chain"));
    assert!(classify_address("inj1xyz", "inj").is_err());
}

#[test]
fn query_strings_are_decoded() {
    let q = Some("q=task+1%2F2&round=3".to_string());
    assert_eq!(param(&q, "q").as_deref(), Some("task 1/2"));
    assert_eq!(optional_number::<u32>(&q, "round").unwrap(), Some(3));
    assert_eq!(param(&Some("q=%zz".into()), "q").as_deref(), Some("%zz"));
}
