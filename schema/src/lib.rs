//! The JSON schema of every Arena contract's messages, as cosmwasm-schema renders them. The files
//! in this folder are generated from these (`cargo run -p arena-schema`), and a test fails when
//! they are stale, so the schemas that tools and UIs read always match the code.

use std::path::{Path, PathBuf};

use cosmwasm_schema::generate_api;

/// (contract name, rendered schema JSON) for every contract.
pub fn schemas() -> Vec<(&'static str, String)> {
    let token = {
        use arena_token::msg::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};
        generate_api! {
            name: "arena-token",
            instantiate: InstantiateMsg,
            execute: ExecuteMsg,
            query: QueryMsg,
            migrate: MigrateMsg,
        }
    };
    let market = {
        use arena_types::market::msg::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};
        generate_api! {
            name: "arena-market",
            instantiate: InstantiateMsg,
            execute: ExecuteMsg,
            query: QueryMsg,
            migrate: MigrateMsg,
        }
    };
    let bridge = {
        use arena_types::settlement::msg::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};
        generate_api! {
            name: "arena-bridge",
            instantiate: InstantiateMsg,
            execute: ExecuteMsg,
            query: QueryMsg,
            migrate: MigrateMsg,
        }
    };
    vec![("arena-token", render(token)), ("arena-market", render(market)), ("arena-bridge", render(bridge))]
}

fn render(api: cosmwasm_schema::Api) -> String {
    api.render().to_string().expect("schemas serialize") + "\n"
}

/// Where `contract`'s schema file lives: `schema/<contract>.json`.
pub fn schema_path(contract: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("{contract}.json"))
}
