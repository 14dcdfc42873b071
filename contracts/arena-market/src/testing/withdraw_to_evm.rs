//! `WithdrawToEvm`: rewards leave through the real arena-bridge, queued there for an EVM
//! recipient with the market as sender; and each way it is refused with nothing moved.

use arena_types::market::msg::{ConfigResponse, ExecuteMsg, InstantiateMsg, QueryMsg, DEFAULT_BRIDGE_CHANGE_DELAY};
use arena_types::settlement::msg::{
    Attester, BatchPolicy, BatchResponse, ExecuteMsg as BridgeExecuteMsg, InstantiateMsg as BridgeInstantiateMsg,
    LeavesResponse, OutboxResponse, ProofResponse, QueryMsg as BridgeQueryMsg, ReceiveMsg as BridgeReceiveMsg,
    WithdrawalsResponse,
};
use arena_types::settlement::SettlementError;
use cosmwasm_std::{to_json_binary, Addr, Decimal, Uint128};
use cw20::Cw20ExecuteMsg;
use cw_multi_test::{ContractWrapper, Executor};

use super::helpers::*;
use crate::ContractError;

/// An EVM recipient (EIP-55's second example address), checksummed.
const RECIPIENT: &str = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
/// The bridge's attester key address and its EVM settlement contract (EIP-55 examples).
const ATTESTER: &str = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB";
const SETTLEMENT: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
/// The bridge seals at 3 withdrawals or once the oldest is this many blocks old.
const MAX_AGE_BLOCKS: u64 = 10;

/// Deploys the real arena-bridge for the suite's token (admin = the suite's admin).
fn deploy_bridge(suite: &mut Suite) -> Addr {
    let code = suite.app.store_code(Box::new(ContractWrapper::new(
        arena_bridge::contract::execute,
        arena_bridge::contract::instantiate,
        arena_bridge::contract::query,
    )));
    let msg = BridgeInstantiateMsg {
        admin: suite.admin.to_string(),
        token: suite.token.to_string(),
        attesters: vec![Attester { evm_address: ATTESTER.into(), operator: suite.addr("relayer").to_string() }],
        threshold: 1,
        evm_chain_id: 84532,
        evm_settlement: Some(SETTLEMENT.into()),
        batch_policy: BatchPolicy { max_leaves: 3, max_age_blocks: MAX_AGE_BLOCKS },
    };
    let admin = suite.admin.clone();
    suite.app.instantiate_contract(code, admin, &msg, &[], "arena-bridge", None).unwrap()
}

/// Deploys the bridge and names it in the market.
fn connect_bridge(suite: &mut Suite) -> Addr {
    let bridge = deploy_bridge(suite);
    let admin = suite.admin.clone();
    suite.execute(&admin, &ExecuteMsg::SetBridge { bridge: bridge.to_string() }).unwrap();
    suite.wait_for_bridge_change();
    bridge
}

/// A task whose round 1 is played and finalized: one trainer, three validators all scoring
/// 800_000. Returns (suite, task, trainer, validators); the trainer has rewards to withdraw.
fn rewarded_trainer() -> (Suite, u64, Addr, Vec<Addr>) {
    let (mut suite, task, start, ts, vs) = running_task(default_params(), 1, 3);
    suite.submit(&ts[0], task, 1).unwrap();
    suite.advance_to(at(start, 1, COMMIT));
    suite.assign(task, None).unwrap();
    for v in &vs {
        suite.commit(v, task, 1, 800_000).unwrap();
    }
    suite.advance_to(at(start, 1, REVEAL));
    for v in &vs {
        suite.reveal(v, task, 1, 800_000).unwrap();
    }
    suite.advance_to(at(start, 1, END));
    suite.finalize_all(task, 1, 50);
    assert!(suite.rewards(&ts[0]) > 0, "the trainer earned nothing");
    (suite, task, ts[0].clone(), vs)
}

fn withdraw_to_evm(
    suite: &mut Suite,
    who: &Addr,
    recipient: &str,
) -> Result<cw_multi_test::AppResponse, ContractError> {
    suite.execute(who, &ExecuteMsg::WithdrawToEvm { evm_recipient: recipient.to_string() })
}

fn config(suite: &Suite) -> ConfigResponse {
    suite.app.wrap().query_wasm_smart(&suite.market, &QueryMsg::Config {}).unwrap()
}

fn bridge_query<T: cosmwasm_schema::serde::de::DeserializeOwned>(
    suite: &Suite,
    bridge: &Addr,
    msg: &BridgeQueryMsg,
) -> T {
    suite.app.wrap().query_wasm_smart(bridge, msg).unwrap()
}

fn pending(suite: &Suite, bridge: &Addr) -> WithdrawalsResponse {
    bridge_query(suite, bridge, &BridgeQueryMsg::PendingWithdrawals { start_after: None, limit: None })
}

/// The market's money: what it holds plus what it handed the bridge is everything that entered
/// it, less unbonded stake paid back and pool reclaimed (nobody claims on this chain here).
fn assert_money_accounted(suite: &Suite, task: u64, bridge: Option<&Addr>) {
    suite.assert_books_balance(task);
    let a = suite.task(task).accounts;
    let handed_to_bridge: u128 = bridge
        .map(|b| {
            let sealed: u128 = {
                let batches: arena_types::settlement::msg::BatchesResponse = bridge_query(
                    suite,
                    b,
                    &BridgeQueryMsg::Batches { status: None, start_after: None, limit: Some(100) },
                );
                batches
                    .batches
                    .iter()
                    .map(|batch| {
                        let leaves: LeavesResponse = bridge_query(
                            suite,
                            b,
                            &BridgeQueryMsg::Leaves { batch_id: batch.batch_id, start_after: None, limit: Some(100) },
                        );
                        leaves.leaves.iter().filter(|l| l.sender == suite.market).map(|l| l.amount.u128()).sum::<u128>()
                    })
                    .sum()
            };
            let queued: u128 = pending(suite, b)
                .withdrawals
                .iter()
                .filter(|w| w.sender == suite.market)
                .map(|w| w.amount.u128())
                .sum();
            sealed + queued
        })
        .unwrap_or_default();
    assert_eq!(
        suite.balance(&suite.market) + handed_to_bridge,
        (a.entered - a.withdrawn - a.reclaimed).u128(),
        "market balance + handed to the bridge vs the books: {a:?}"
    );
}

#[test]
fn a_trainer_withdraws_its_rewards_to_an_evm_address_through_the_bridge() {
    let (mut suite, task, trainer, vs) = rewarded_trainer();
    let bridge = connect_bridge(&mut suite);
    let reward = suite.rewards(&trainer);
    let market_before = suite.balance(&suite.market);
    let trainer_before = suite.balance(&trainer);
    let height = suite.height();

    let res = withdraw_to_evm(&mut suite, &trainer, RECIPIENT).unwrap();
    // The market's event, then the bridge's own as the cw20 hook ran.
    let market_event = res
        .events
        .iter()
        .find(|e| e.ty == "wasm" && e.attributes.iter().any(|a| a.value == "withdraw_to_evm"))
        .expect("withdraw_to_evm event");
    let get = |k: &str| market_event.attributes.iter().find(|a| a.key == k).unwrap().value.clone();
    assert_eq!(get("address"), trainer.to_string());
    assert_eq!(get("evm_recipient"), RECIPIENT);
    assert_eq!(get("amount"), reward.to_string());
    assert_eq!(get("bridge"), bridge.to_string());
    assert!(res.events.iter().any(|e| e.ty == "wasm" && e.attributes.iter().any(|a| a.value == "withdraw")));

    // The claimable balance is gone, the tokens moved from the market to the bridge, not to
    // the trainer's Cosmos account.
    assert_eq!(suite.rewards(&trainer), 0);
    assert_eq!(suite.balance(&suite.market), market_before - reward);
    assert_eq!(suite.balance(&bridge), reward);
    assert_eq!(suite.balance(&trainer), trainer_before);

    // The bridge queued exactly that amount, for that recipient, with the market as sender.
    let queued = pending(&suite, &bridge).withdrawals;
    assert_eq!(queued.len(), 1);
    assert_eq!(
        (&queued[0].sender, queued[0].evm_recipient.as_str(), queued[0].amount, queued[0].queued_height),
        (&suite.market, RECIPIENT, Uint128::new(reward), height)
    );
    assert_money_accounted(&suite, task, Some(&bridge));

    // A validator withdraws too, writing the address in lower case: queued checksummed.
    let validator_reward = suite.rewards(&vs[0]);
    assert!(validator_reward > 0);
    withdraw_to_evm(&mut suite, &vs[0], &RECIPIENT.to_lowercase()).unwrap();
    // And any holder withdraws directly, without the market.
    let creator = suite.addr("creator");
    let direct = Cw20ExecuteMsg::Send {
        contract: bridge.to_string(),
        amount: Uint128::new(77),
        msg: to_json_binary(&BridgeReceiveMsg::Withdraw { evm_recipient: RECIPIENT.into() }).unwrap(),
    };
    suite.app.execute_contract(creator.clone(), suite.token.clone(), &direct, &[]).unwrap();
    let queued = pending(&suite, &bridge).withdrawals;
    let got: Vec<(Addr, &str, u128)> =
        queued.iter().map(|w| (w.sender.clone(), w.evm_recipient.as_str(), w.amount.u128())).collect();
    assert_eq!(
        got,
        vec![
            (suite.market.clone(), RECIPIENT, reward),
            (suite.market.clone(), RECIPIENT, validator_reward),
            (creator.clone(), RECIPIENT, 77),
        ]
    );

    // Sealing (3 queued = max_leaves) puts all three in batch 1, in order.
    let anyone = suite.addr("cranker");
    suite.app.execute_contract(anyone, bridge.clone(), &BridgeExecuteMsg::SealBatch {}, &[]).unwrap();
    let batch: BatchResponse = bridge_query(&suite, &bridge, &BridgeQueryMsg::Batch { batch_id: 1 });
    assert_eq!((batch.count, batch.total.u128()), (3, reward + validator_reward + 77));
    let leaves: LeavesResponse =
        bridge_query(&suite, &bridge, &BridgeQueryMsg::Leaves { batch_id: 1, start_after: None, limit: None });
    assert_eq!(
        (&leaves.leaves[0].sender, leaves.leaves[0].evm_recipient.as_str(), leaves.leaves[0].amount.u128()),
        (&suite.market, RECIPIENT, reward)
    );
    let proof: ProofResponse = bridge_query(&suite, &bridge, &BridgeQueryMsg::Proof { batch_id: 1, index: 0 });
    assert_eq!(proof.root, batch.root);
    assert!(proof.verify().unwrap());
    let outbox: OutboxResponse = bridge_query(&suite, &bridge, &BridgeQueryMsg::Outbox {});
    assert_eq!((outbox.queued_count, outbox.sealed_amount.u128()), (0, reward + validator_reward + 77));
    assert_money_accounted(&suite, task, Some(&bridge));
}

#[test]
fn the_admin_sets_the_bridge_and_the_config_answers_it() {
    let mut suite = Suite::new(&[]);
    assert_eq!(config(&suite).bridge, None);
    let bridge = deploy_bridge(&mut suite);
    let admin = suite.admin.clone();
    let res = suite.execute(&admin, &ExecuteMsg::SetBridge { bridge: bridge.to_string() }).unwrap();
    assert_eq!(attr(&res, "action"), "set_bridge");
    assert_eq!(attr(&res, "bridge"), bridge.to_string());
    let effective_at = suite.app.block_info().time.seconds() + DEFAULT_BRIDGE_CHANGE_DELAY;
    assert_eq!(attr(&res, "effective_at"), effective_at.to_string());
    assert_eq!(config(&suite).pending_bridge, Some((bridge.clone(), effective_at)));
    assert_eq!(config(&suite).bridge, None);
    suite.wait_for_bridge_change();
    assert_eq!(config(&suite).bridge, Some(bridge));
    assert_eq!(config(&suite).pending_bridge, None);
}

/// Scenario 9 of the security review: the admin's `SetBridge` redirected every later withdrawal
/// at once, so a stolen admin key could take every EVM withdrawal. A new bridge is announced and
/// used only after the delay; until then withdrawals go to the old one.
#[test]
fn a_new_bridge_is_used_only_after_the_announced_delay() {
    let (mut suite, task, trainer, _vs) = rewarded_trainer();
    let old = connect_bridge(&mut suite);
    let new = deploy_bridge(&mut suite);
    let admin = suite.admin.clone();
    suite.execute(&admin, &ExecuteMsg::SetBridge { bridge: new.to_string() }).unwrap();
    let recipient = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed".to_string();
    let res = suite.execute(&trainer, &ExecuteMsg::WithdrawToEvm { evm_recipient: recipient.clone() }).unwrap();
    assert_eq!(attr(&res, "bridge"), old.to_string());
    assert_eq!(config(&suite).bridge, Some(old.clone()));
    assert_money_accounted(&suite, task, Some(&old));
    suite.wait_for_bridge_change();
    assert_eq!(config(&suite).bridge, Some(new));
}

#[test]
fn a_market_instantiated_with_a_bridge_answers_it() {
    let mut suite = Suite::new(&[]);
    let bridge = deploy_bridge(&mut suite);
    let code = suite.app.store_code(Box::new(ContractWrapper::new(
        crate::contract::execute,
        crate::contract::instantiate,
        crate::contract::query,
    )));
    let msg = InstantiateMsg {
        admin: None,
        token: suite.token.to_string(),
        max_commission: Decimal::percent(50),
        max_commission_change: Decimal::percent(10),
        bridge: Some(bridge.to_string()),
        min_evm_withdrawal: None,
        bridge_change_delay: None,
    };
    let admin = suite.admin.clone();
    let market = suite.app.instantiate_contract(code, admin, &msg, &[], "market2", None).unwrap();
    let c: ConfigResponse = suite.app.wrap().query_wasm_smart(&market, &QueryMsg::Config {}).unwrap();
    assert_eq!(c.bridge, Some(bridge));
}

#[test]
fn only_the_admin_sets_the_bridge() {
    let (mut suite, _task, trainer, _vs) = rewarded_trainer();
    let bridge = deploy_bridge(&mut suite);
    let err = suite.execute(&trainer, &ExecuteMsg::SetBridge { bridge: bridge.to_string() }).unwrap_err();
    assert_eq!(err, ContractError::Unauthorized { expected: suite.admin.to_string() });
    assert_eq!(config(&suite).bridge, None);
}

#[test]
fn the_bridge_can_be_set_while_paused() {
    let mut suite = Suite::new(&[]);
    let bridge = deploy_bridge(&mut suite);
    let admin = suite.admin.clone();
    suite.execute(&admin, &ExecuteMsg::SetPaused { paused: true }).unwrap();
    suite.execute(&admin, &ExecuteMsg::SetBridge { bridge: bridge.to_string() }).unwrap();
    suite.wait_for_bridge_change();
    assert_eq!(config(&suite).bridge, Some(bridge));
}

#[test]
fn withdrawing_without_a_bridge_fails() {
    let (mut suite, task, trainer, _vs) = rewarded_trainer();
    let reward = suite.rewards(&trainer);
    assert_eq!(withdraw_to_evm(&mut suite, &trainer, RECIPIENT).unwrap_err(), ContractError::NoBridge {});
    assert_eq!(suite.rewards(&trainer), reward);
    assert_money_accounted(&suite, task, None);
}

/// Withdraws the trainer's rewards to `recipient`, which must fail with `expected`; checks
/// that nothing moved.
fn assert_bad_recipient(recipient: &str, expected: ContractError) {
    let (mut suite, task, trainer, _vs) = rewarded_trainer();
    let bridge = connect_bridge(&mut suite);
    let reward = suite.rewards(&trainer);
    let market_before = suite.balance(&suite.market);
    assert_eq!(withdraw_to_evm(&mut suite, &trainer, recipient).unwrap_err(), expected);
    assert_eq!(suite.rewards(&trainer), reward);
    assert_eq!(suite.balance(&suite.market), market_before);
    assert!(pending(&suite, &bridge).withdrawals.is_empty());
    assert_money_accounted(&suite, task, Some(&bridge));
}

fn malformed(input: &str, reason: &str) -> ContractError {
    ContractError::InvalidEvmRecipient(SettlementError::MalformedAddress {
        input: input.to_string(),
        reason: reason.to_string(),
    })
}

#[test]
fn a_recipient_without_0x_is_refused() {
    let input = "fB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
    assert_bad_recipient(input, malformed(input, "it does not start with 0x"));
}

#[test]
fn a_recipient_of_the_wrong_length_is_refused() {
    let input = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d3";
    assert_bad_recipient(input, malformed(input, "it has 38 hex digits, not 40"));
}

#[test]
fn a_recipient_that_is_not_hex_is_refused() {
    let input = "0xzz6916095ca1df60bb79ce92ce3ea74c37c5d359";
    assert_bad_recipient(input, malformed(input, "it is not hex"));
}

#[test]
fn a_recipient_with_a_bad_checksum_is_refused() {
    // RECIPIENT with its first letter's case flipped.
    let input = "0xFB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
    assert_bad_recipient(
        input,
        ContractError::InvalidEvmRecipient(SettlementError::BadChecksum {
            input: input.to_string(),
            expected: RECIPIENT.to_string(),
        }),
    );
}

#[test]
fn the_zero_address_as_recipient_is_refused() {
    assert_bad_recipient("0x0000000000000000000000000000000000000000", ContractError::ZeroEvmRecipient {});
}

#[test]
fn withdrawing_nothing_to_evm_fails() {
    let (mut suite, _task, _trainer, _vs) = rewarded_trainer();
    connect_bridge(&mut suite);
    let nobody = suite.addr("creator");
    assert_eq!(suite.rewards(&nobody), 0);
    assert_eq!(withdraw_to_evm(&mut suite, &nobody, RECIPIENT).unwrap_err(), ContractError::NothingToClaim {});
}

#[test]
fn withdrawing_to_evm_while_paused_fails() {
    let (mut suite, task, trainer, _vs) = rewarded_trainer();
    let bridge = connect_bridge(&mut suite);
    let reward = suite.rewards(&trainer);
    let admin = suite.admin.clone();
    suite.execute(&admin, &ExecuteMsg::SetPaused { paused: true }).unwrap();
    assert_eq!(withdraw_to_evm(&mut suite, &trainer, RECIPIENT).unwrap_err(), ContractError::Paused {});
    assert_eq!(suite.rewards(&trainer), reward);
    assert!(pending(&suite, &bridge).withdrawals.is_empty());
    // Resumed, the same withdrawal goes through.
    suite.execute(&admin, &ExecuteMsg::SetPaused { paused: false }).unwrap();
    withdraw_to_evm(&mut suite, &trainer, RECIPIENT).unwrap();
    assert_eq!(pending(&suite, &bridge).withdrawals[0].amount.u128(), reward);
    assert_money_accounted(&suite, task, Some(&bridge));
}

#[test]
fn a_bridge_that_refuses_leaves_the_rewards_claimable() {
    let (mut suite, task, trainer, _vs) = rewarded_trainer();
    let bridge = connect_bridge(&mut suite);
    let reward = suite.rewards(&trainer);
    let admin = suite.admin.clone();
    suite.app.execute_contract(admin, bridge.clone(), &BridgeExecuteMsg::SetPaused { paused: true }, &[]).unwrap();
    let err = suite
        .app
        .execute_contract(
            trainer.clone(),
            suite.market.clone(),
            &ExecuteMsg::WithdrawToEvm { evm_recipient: RECIPIENT.into() },
            &[],
        )
        .unwrap_err();
    // The bridge's error, and the whole transaction rolled back.
    assert_eq!(err.downcast::<arena_bridge::ContractError>().unwrap(), arena_bridge::ContractError::Paused {});
    assert_eq!(suite.rewards(&trainer), reward);
    assert_eq!(suite.balance(&bridge), 0);
    assert_money_accounted(&suite, task, Some(&bridge));
    // Claiming on this chain still works.
    suite.claim(&trainer).unwrap();
    assert_eq!(suite.rewards(&trainer), 0);
}

#[test]
fn a_config_stored_before_the_bridge_existed_still_loads() {
    // What `config_v1` held before this field: a migrated market reads it with no bridge.
    let old = r#"{"admin":null,"token":"token","max_commission":"0.5","max_commission_change":"0.1","paused":false}"#;
    let config: crate::state::Config = cosmwasm_std::from_json(old).unwrap();
    assert_eq!(config.bridge, None);
    assert_eq!(config.token, Addr::unchecked("token"));
}
