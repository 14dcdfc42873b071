//! List queries page with `start_after` and `limit`.

use arena_types::market::msg::{
    ConfigResponse, DelegationsResponse, ParticipantsResponse, QueryMsg, SubmissionsResponse, TasksResponse,
};
use cosmwasm_std::Addr;

use super::helpers::*;

fn query<T: cosmwasm_schema::serde::de::DeserializeOwned>(suite: &Suite, msg: &QueryMsg) -> T {
    suite.app.wrap().query_wasm_smart(&suite.market, msg).unwrap()
}

#[test]
fn submissions_page_by_id_within_a_round() {
    let (mut suite, task, start, ts, _vs) = running_task(default_params(), 3, 0);
    for (i, t) in ts.iter().enumerate() {
        suite.submit(t, task, i as u8).unwrap();
    }
    suite.advance_to(at(start, 2, SUBMIT));
    suite.submit(&ts[0], task, 9).unwrap();
    let page = |round, start_after, limit| -> Vec<u64> {
        let r: SubmissionsResponse = query(&suite, &QueryMsg::Submissions { task_id: task, round, start_after, limit });
        r.submissions.into_iter().map(|s| s.id).collect()
    };
    assert_eq!(page(None, None, None), vec![1, 2, 3, 4]);
    assert_eq!(page(Some(1), None, Some(2)), vec![1, 2]);
    assert_eq!(page(Some(1), Some(2), Some(2)), vec![3]);
    assert_eq!(page(Some(2), None, None), vec![4]);
    assert_eq!(page(Some(2), Some(1), None), vec![4]);
    assert_eq!(page(Some(3), None, None), Vec::<u64>::new());
}

#[test]
fn participants_and_delegations_page_by_address() {
    let (mut suite, task, _start, ts, vs) = running_task(default_params(), 2, 3);
    let mut all: Vec<Addr> = ts.iter().chain(&vs).cloned().collect();
    all.sort();
    let first: ParticipantsResponse =
        query(&suite, &QueryMsg::Participants { task_id: task, start_after: None, limit: Some(3) });
    let got: Vec<Addr> = first.participants.iter().map(|p| p.address.clone()).collect();
    assert_eq!(got, all[..3].to_vec());
    let rest: ParticipantsResponse =
        query(&suite, &QueryMsg::Participants { task_id: task, start_after: Some(got[2].to_string()), limit: None });
    let got: Vec<Addr> = rest.participants.iter().map(|p| p.address.clone()).collect();
    assert_eq!(got, all[3..].to_vec());

    let d0 = suite.addr("delegator0");
    for op in &all {
        suite.delegate(&d0, task, op, 10).unwrap();
    }
    let r: DelegationsResponse = query(
        &suite,
        &QueryMsg::Delegations {
            task_id: task,
            delegator: d0.to_string(),
            start_after: Some(all[1].to_string()),
            limit: Some(2),
        },
    );
    let ops: Vec<Addr> = r.delegations.iter().map(|d| d.operator.clone()).collect();
    assert_eq!(ops, all[2..4].to_vec());
}

#[test]
fn tasks_page_by_id() {
    let mut suite = Suite::new(&["creator"]);
    let creator = suite.addr("creator");
    for _ in 0..3 {
        suite.create_task(&creator, 1_000, default_params()).unwrap();
    }
    let r: TasksResponse = query(&suite, &QueryMsg::Tasks { start_after: Some(1), limit: Some(1) });
    assert_eq!(r.tasks.iter().map(|t| t.id).collect::<Vec<_>>(), vec![2]);
    let c: ConfigResponse = query(&suite, &QueryMsg::Config {});
    assert_eq!((c.next_task_id, c.paused, c.token), (4, false, suite.token.clone()));
}
