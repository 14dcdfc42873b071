//! Typed bindings of the committed contract artifacts.
//!
//! The JSON under `contracts/evm/artifacts/` holds the ABI and the creation bytecode, so each
//! contract gets an `*Instance` for calls and `deploy_builder` for deployment. Custom errors decode
//! into `ArenaSettlementErrors` / `ArenaTokenErrors` with `as_decoded_interface_error`.
#![allow(missing_docs)]

use alloy::sol;

sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    ArenaSettlement,
    "../../contracts/evm/artifacts/ArenaSettlement.json"
);

sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    ArenaToken,
    "../../contracts/evm/artifacts/ArenaToken.json"
);
