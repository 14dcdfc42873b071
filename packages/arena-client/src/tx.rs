//! What a included transaction left behind: its hash, height, gas and events.

use cosmrs::proto::cosmos::base::abci::v1beta1::TxResponse;
use serde::Serialize;

/// One ABCI event, with attributes in emission order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    pub kind: String,
    pub attributes: Vec<(String, String)>,
}

impl Event {
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// A transaction included in a block with code 0.
#[derive(Clone, Debug, Serialize)]
pub struct TxOutcome {
    pub txhash: String,
    pub height: u64,
    pub gas_wanted: u64,
    pub gas_used: u64,
    pub events: Vec<Event>,
}

impl TxOutcome {
    pub(crate) fn from_response(r: &TxResponse) -> Self {
        TxOutcome {
            txhash: r.txhash.clone(),
            height: r.height as u64,
            gas_wanted: r.gas_wanted as u64,
            gas_used: r.gas_used as u64,
            events: r
                .events
                .iter()
                .map(|e| Event {
                    kind: e.r#type.clone(),
                    attributes: e.attributes.iter().map(|a| (a.key.clone(), a.value.clone())).collect(),
                })
                .collect(),
        }
    }

    /// The first value of `key` in an event of type `kind`.
    pub fn attribute(&self, kind: &str, key: &str) -> Option<&str> {
        self.events.iter().filter(|e| e.kind == kind).find_map(|e| e.attribute(key))
    }

    /// Events a contract emitted (`wasm` events, and `wasm-<custom>` ones with the prefix removed).
    pub fn wasm_events(&self) -> impl Iterator<Item = &Event> {
        self.events.iter().filter(|e| e.kind == "wasm" || e.kind.starts_with("wasm-"))
    }
}
