//! The token speaks plain cw20: these are cw20-base's messages, re-exported.

use cosmwasm_schema::cw_serde;

pub use cw20_base::msg::{ExecuteMsg, InstantiateMarketingInfo, InstantiateMsg, QueryMsg};

/// Migration takes no parameters: it only checks the stored version and records the new one.
#[cw_serde]
pub struct MigrateMsg {}
