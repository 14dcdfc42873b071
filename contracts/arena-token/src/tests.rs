//! The packaging of cw20-base: instantiate, transfer, balance, and migration through our own entry points.

use cosmwasm_std::{Addr, Empty, Uint128};
use cw20::{BalanceResponse, Cw20Coin, Cw20QueryMsg, MinterResponse, TokenInfoResponse};
use cw_multi_test::{App, Contract, ContractWrapper, Executor};

use crate::contract::{execute, instantiate, migrate, query, CONTRACT_NAME, CONTRACT_VERSION};
use crate::msg::{ExecuteMsg, InstantiateMsg, MigrateMsg};
use crate::ContractError;

fn token_contract() -> Box<dyn Contract<Empty>> {
    Box::new(ContractWrapper::new(execute, instantiate, query).with_migrate(migrate))
}

struct Setup {
    app: App,
    token: Addr,
    admin: Addr,
    alice: Addr,
    bob: Addr,
}

fn instantiate_token() -> Setup {
    let mut app = App::default();
    let admin = app.api().addr_make("admin");
    let alice = app.api().addr_make("alice");
    let bob = app.api().addr_make("bob");
    let code_id = app.store_code(token_contract());
    let msg = InstantiateMsg {
        name: "Arena Token".into(),
        symbol: "ARENA".into(),
        decimals: 6,
        initial_balances: vec![Cw20Coin { address: alice.to_string(), amount: Uint128::new(1_000) }],
        mint: Some(MinterResponse { minter: admin.to_string(), cap: None }),
        marketing: None,
    };
    let token =
        app.instantiate_contract(code_id, admin.clone(), &msg, &[], "arena-token", Some(admin.to_string())).unwrap();
    Setup { app, token, admin, alice, bob }
}

fn balance(s: &Setup, who: &Addr) -> u128 {
    let r: BalanceResponse =
        s.app.wrap().query_wasm_smart(&s.token, &Cw20QueryMsg::Balance { address: who.to_string() }).unwrap();
    r.balance.u128()
}

#[test]
fn instantiate_records_token_info_and_our_contract_version() {
    let s = instantiate_token();
    let info: TokenInfoResponse = s.app.wrap().query_wasm_smart(&s.token, &Cw20QueryMsg::TokenInfo {}).unwrap();
    assert_eq!((info.symbol.as_str(), info.decimals, info.total_supply.u128()), ("ARENA", 6, 1_000));
    let version = cw2::query_contract_info(&s.app.wrap(), s.token.to_string()).unwrap();
    assert_eq!((version.contract.as_str(), version.version.as_str()), (CONTRACT_NAME, CONTRACT_VERSION));
}

#[test]
fn transfer_moves_exactly_the_amount() {
    let mut s = instantiate_token();
    let msg = ExecuteMsg::Transfer { recipient: s.bob.to_string(), amount: Uint128::new(400) };
    s.app.execute_contract(s.alice.clone(), s.token.clone(), &msg, &[]).unwrap();
    assert_eq!((balance(&s, &s.alice), balance(&s, &s.bob)), (600, 400));
}

#[test]
fn transfer_beyond_balance_is_refused_and_changes_nothing() {
    let mut s = instantiate_token();
    let msg = ExecuteMsg::Transfer { recipient: s.bob.to_string(), amount: Uint128::new(1_001) };
    let err = s.app.execute_contract(s.alice.clone(), s.token.clone(), &msg, &[]).unwrap_err();
    assert!(matches!(
        err.downcast::<ContractError>().unwrap(),
        ContractError::Cw20(cw20_base::ContractError::Std(cosmwasm_std::StdError::Overflow { .. }))
    ));
    assert_eq!((balance(&s, &s.alice), balance(&s, &s.bob)), (1_000, 0));
}

#[test]
fn only_the_minter_mints() {
    let mut s = instantiate_token();
    let mint = ExecuteMsg::Mint { recipient: s.bob.to_string(), amount: Uint128::new(5) };
    let err = s.app.execute_contract(s.alice.clone(), s.token.clone(), &mint, &[]).unwrap_err();
    assert_eq!(
        err.downcast::<ContractError>().unwrap(),
        ContractError::Cw20(cw20_base::ContractError::Unauthorized {})
    );
    s.app.execute_contract(s.admin.clone(), s.token.clone(), &mint, &[]).unwrap();
    assert_eq!(balance(&s, &s.bob), 5);
}

#[test]
fn migrate_to_the_same_version_keeps_balances() {
    let mut s = instantiate_token();
    let code_id = s.app.store_code(token_contract());
    s.app.migrate_contract(s.admin.clone(), s.token.clone(), &MigrateMsg {}, code_id).unwrap();
    assert_eq!(balance(&s, &s.alice), 1_000);
}
