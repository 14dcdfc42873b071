/*!
Arena's stake and reward token: a standard cw20 ([cw20-base] underneath), packaged as Arena's own
contract so that it carries Arena's name and version (cw2) and can be migrated with the rest.

- [x] cw20 base: transfer, send (with `Cw20ReceiveMsg` hooks, which the market and bridge use), burn
- [x] allowances
- [x] mintable (minter and cap set at instantiation)
- [x] marketing info

Messages are cw20-base's own, re-exported from [`msg`], so every cw20 tool speaks to it unchanged.

[cw20-base]: https://crates.io/crates/cw20-base
*/

pub mod contract;
pub mod error;
pub mod msg;

pub use crate::error::ContractError;

#[cfg(test)]
mod tests;
