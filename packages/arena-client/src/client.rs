//! The gRPC client: queries, and transactions from simulation to inclusion.

use std::time::{Duration, Instant};

use cosmrs::cosmwasm::{MsgExecuteContract, MsgInstantiateContract, MsgStoreCode};
use cosmrs::proto::cosmos::auth::v1beta1::{query_client::QueryClient as AuthQuery, QueryAccountInfoRequest};
use cosmrs::proto::cosmos::bank::v1beta1::{query_client::QueryClient as BankQuery, QueryBalanceRequest};
use cosmrs::proto::cosmos::base::abci::v1beta1::TxResponse;
use cosmrs::proto::cosmos::base::tendermint::v1beta1::{
    service_client::ServiceClient as NodeService, GetLatestBlockRequest,
};
use cosmrs::proto::cosmos::tx::v1beta1::{
    service_client::ServiceClient as TxService, BroadcastMode, BroadcastTxRequest, GetTxRequest, SimulateRequest,
};
use cosmrs::proto::cosmwasm::wasm::v1::{
    query_client::QueryClient as WasmQuery, QueryCodeRequest, QueryContractInfoRequest, QuerySmartContractStateRequest,
};
use cosmrs::tx::{Body, Fee, Msg, SignDoc, SignerInfo};
use cosmrs::{AccountId, Any, Coin};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tonic::transport::Channel;

use crate::config::ChainConfig;
use crate::error::{sdk_code, ClientError};
use crate::keys::Signer;
use crate::tx::TxOutcome;

/// How often a broadcast transaction is looked up while waiting for its block (blocks are ~0.2 s on the devnet).
const INCLUSION_POLL: Duration = Duration::from_millis(100);
/// A stale sequence is refetched and the transaction signed again at most this many times.
const SEQUENCE_RETRIES: usize = 3;

/// A connection to one chain. Cloning is cheap and shares the underlying HTTP/2 channel, which
/// reconnects by itself after the node restarts.
#[derive(Clone, Debug)]
pub struct Client {
    config: ChainConfig,
    channel: Channel,
}

impl Client {
    /// Connects to the chain's gRPC endpoint; fails at once if nothing answers there.
    pub async fn connect(config: ChainConfig) -> Result<Self, ClientError> {
        let unreachable = |reason: String| ClientError::NodeUnreachable { url: config.grpc_url.clone(), reason };
        let channel = Channel::from_shared(config.grpc_url.clone())
            .map_err(|e| ClientError::Config(format!("gRPC url {:?}: {e}", config.grpc_url)))?
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .map_err(|e| unreachable(source_chain(&e)))?;
        Ok(Client { config, channel })
    }

    pub fn config(&self) -> &ChainConfig {
        &self.config
    }

    fn status_error(&self, status: tonic::Status) -> ClientError {
        ClientError::from_status(&self.config.grpc_url, status)
    }

    /// Parses a bech32 address with this chain's prefix.
    pub fn account_id(&self, address: &str) -> Result<AccountId, ClientError> {
        let id: AccountId = address.parse().map_err(|e| ClientError::Config(format!("address {address:?}: {e}")))?;
        if id.prefix() != self.config.bech32_prefix {
            return Err(ClientError::Config(format!(
                "address {address} has prefix {:?}, this chain uses {:?}",
                id.prefix(),
                self.config.bech32_prefix
            )));
        }
        Ok(id)
    }

    /// Height of the newest block.
    pub async fn latest_height(&self) -> Result<u64, ClientError> {
        let block = NodeService::new(self.channel.clone())
            .get_latest_block(GetLatestBlockRequest {})
            .await
            .map_err(|s| self.status_error(s))?
            .into_inner();
        let height = block
            .sdk_block
            .and_then(|b| b.header)
            .map(|h| h.height)
            .or_else(|| block.block.and_then(|b| b.header).map(|h| h.height));
        height.map(|h| h as u64).ok_or_else(|| ClientError::Decode("latest block has no header".into()))
    }

    /// Account number and sequence. `Query/AccountInfo` is used rather than `Query/Account`
    /// because chains like Injective wrap the base account in their own type there.
    pub async fn account_numbers(&self, address: &AccountId) -> Result<(u64, u64), ClientError> {
        let response = AuthQuery::new(self.channel.clone())
            .account_info(QueryAccountInfoRequest { address: address.to_string() })
            .await;
        match response {
            Ok(r) => {
                let info =
                    r.into_inner().info.ok_or_else(|| ClientError::AccountNotFound { address: address.to_string() })?;
                Ok((info.account_number, info.sequence))
            }
            Err(s) if s.code() == tonic::Code::NotFound => {
                Err(ClientError::AccountNotFound { address: address.to_string() })
            }
            Err(s) => Err(self.status_error(s)),
        }
    }

    /// Bank balance of `address` in `denom`.
    pub async fn balance(&self, address: &str, denom: &str) -> Result<u128, ClientError> {
        let coin = BankQuery::new(self.channel.clone())
            .balance(QueryBalanceRequest { address: address.to_string(), denom: denom.to_string() })
            .await
            .map_err(|s| self.status_error(s))?
            .into_inner()
            .balance;
        match coin {
            None => Ok(0),
            Some(c) => c.amount.parse().map_err(|e| ClientError::Decode(format!("balance {:?}: {e}", c.amount))),
        }
    }

    /// A smart query: `msg` is serialized as the contract's JSON query, the answer parsed as `R`.
    pub async fn query_contract<Q: Serialize, R: DeserializeOwned>(
        &self,
        contract: &str,
        msg: &Q,
    ) -> Result<R, ClientError> {
        let query_data = serde_json::to_vec(msg).map_err(|e| ClientError::Config(format!("query message: {e}")))?;
        let data = WasmQuery::new(self.channel.clone())
            .smart_contract_state(QuerySmartContractStateRequest { address: contract.to_string(), query_data })
            .await
            .map_err(|s| self.status_error(s))?
            .into_inner()
            .data;
        serde_json::from_slice(&data).map_err(|e| {
            ClientError::Decode(format!(
                "answer of contract {contract} as {}: {e}: {}",
                std::any::type_name::<R>(),
                String::from_utf8_lossy(&data)
            ))
        })
    }

    /// Hex sha256 of the wasm stored under `code_id`, or None if there is no such code.
    pub async fn code_checksum(&self, code_id: u64) -> Result<Option<String>, ClientError> {
        match WasmQuery::new(self.channel.clone()).code(QueryCodeRequest { code_id }).await {
            Ok(r) => Ok(r.into_inner().code_info.map(|info| hex::encode(info.data_hash))),
            Err(s) if s.code() == tonic::Code::NotFound || s.message().contains("not found") => Ok(None),
            Err(s) => Err(self.status_error(s)),
        }
    }

    /// The code id a contract runs, or None if there is no contract at `address`.
    pub async fn contract_code_id(&self, address: &str) -> Result<Option<u64>, ClientError> {
        match WasmQuery::new(self.channel.clone())
            .contract_info(QueryContractInfoRequest { address: address.to_string() })
            .await
        {
            Ok(r) => Ok(r.into_inner().contract_info.map(|info| info.code_id)),
            Err(s) if s.code() == tonic::Code::NotFound || s.message().contains("not found") => Ok(None),
            Err(s) => Err(self.status_error(s)),
        }
    }

    /// Uploads wasm code; returns its code id.
    pub async fn store_code(&self, signer: &Signer, wasm: Vec<u8>) -> Result<(u64, TxOutcome), ClientError> {
        let msg = MsgStoreCode { sender: signer.address().clone(), wasm_byte_code: wasm, instantiate_permission: None };
        let outcome = self.send(signer, vec![to_any(msg)?]).await?;
        let code_id = outcome
            .attribute("store_code", "code_id")
            .ok_or_else(|| ClientError::Decode("store_code event without code_id".into()))?
            .parse()
            .map_err(|e| ClientError::Decode(format!("code_id: {e}")))?;
        Ok((code_id, outcome))
    }

    /// Instantiates `code_id` with `msg`; returns the new contract's address.
    pub async fn instantiate<M: Serialize>(
        &self,
        signer: &Signer,
        code_id: u64,
        msg: &M,
        label: &str,
        admin: Option<&AccountId>,
    ) -> Result<(String, TxOutcome), ClientError> {
        let msg = MsgInstantiateContract {
            sender: signer.address().clone(),
            admin: admin.cloned(),
            code_id,
            label: Some(label.to_string()),
            msg: serde_json::to_vec(msg).map_err(|e| ClientError::Config(format!("instantiate message: {e}")))?,
            funds: vec![],
        };
        let outcome = self.send(signer, vec![to_any(msg)?]).await?;
        let address = outcome
            .attribute("instantiate", "_contract_address")
            .ok_or_else(|| ClientError::Decode("instantiate event without _contract_address".into()))?
            .to_string();
        Ok((address, outcome))
    }

    /// Executes `msg` on `contract`, with optional native `funds`.
    pub async fn execute<M: Serialize>(
        &self,
        signer: &Signer,
        contract: &str,
        msg: &M,
        funds: Vec<Coin>,
    ) -> Result<TxOutcome, ClientError> {
        self.send(signer, vec![self.execute_msg(signer, contract, msg, funds)?]).await
    }

    /// Builds (without sending) an execute message, so several can share one transaction.
    pub fn execute_msg<M: Serialize>(
        &self,
        signer: &Signer,
        contract: &str,
        msg: &M,
        funds: Vec<Coin>,
    ) -> Result<Any, ClientError> {
        to_any(MsgExecuteContract {
            sender: signer.address().clone(),
            contract: self.account_id(contract)?,
            msg: serde_json::to_vec(msg).map_err(|e| ClientError::Config(format!("execute message: {e}")))?,
            funds,
        })
    }

    /// Simulates, prices, signs and broadcasts `msgs` in one transaction, then waits until it is in
    /// a block. A stale sequence (another transaction of the same account got there first) is
    /// signed again with the sequence the node said it expects: the committed one, which a query
    /// answers, is still stale while the other transaction waits in the mempool.
    pub async fn send(&self, signer: &Signer, msgs: Vec<Any>) -> Result<TxOutcome, ClientError> {
        let mut attempt = 0;
        let mut expected = None;
        loop {
            match self.send_once(signer, &msgs, None, expected).await {
                Err(e) if e.is_sequence_mismatch() && attempt < SEQUENCE_RETRIES => {
                    attempt += 1;
                    expected = e.expected_sequence();
                    tracing::debug!(%e, attempt, ?expected, "sequence mismatch, signing again");
                }
                other => return other,
            }
        }
    }

    /// Like [`Client::send`] but with a fixed gas limit and fee, skipping simulation. For tests of
    /// fee handling and for callers that price transactions themselves.
    pub async fn send_with_fee(
        &self,
        signer: &Signer,
        msgs: Vec<Any>,
        gas_limit: u64,
        fee_amount: u128,
    ) -> Result<TxOutcome, ClientError> {
        self.send_once(signer, &msgs, Some((gas_limit, fee_amount)), None).await
    }

    async fn send_once(
        &self,
        signer: &Signer,
        msgs: &[Any],
        fixed_fee: Option<(u64, u128)>,
        expected_sequence: Option<u64>,
    ) -> Result<TxOutcome, ClientError> {
        let (account_number, committed) = self.account_numbers(signer.address()).await?;
        let sequence = expected_sequence.map_or(committed, |expected| expected.max(committed));
        let body = Body::new(msgs.to_vec(), "", 0u32);
        let (gas_limit, fee_amount) = match fixed_fee {
            Some(fee) => fee,
            None => {
                let simulated = self.simulate(signer, &body, account_number, sequence).await?;
                let gas_limit = (simulated as f64 * self.config.gas_adjustment).ceil() as u64;
                (gas_limit, self.config.gas_price.fee_for(gas_limit))
            }
        };
        let tx_bytes = self.sign(signer, &body, account_number, sequence, gas_limit, fee_amount)?;
        let response = TxService::new(self.channel.clone())
            .broadcast_tx(BroadcastTxRequest { tx_bytes, mode: BroadcastMode::Sync as i32 })
            .await
            .map_err(|s| match RejectedTx::parse(s.message()) {
                // Some chains (injectived) answer a CheckTx failure as a gRPC error, not a code.
                Some(rejected) => rejected.into_error(signer),
                None => self.status_error(s),
            })?
            .into_inner()
            .tx_response
            .ok_or_else(|| ClientError::Decode("broadcast answered without a tx_response".into()))?;
        check_code(&response, signer)?;
        self.wait_for_inclusion(&response.txhash, signer).await
    }

    async fn simulate(
        &self,
        signer: &Signer,
        body: &Body,
        account_number: u64,
        sequence: u64,
    ) -> Result<u64, ClientError> {
        // Simulation runs the transaction without checking signature or fee, but the tx must
        // still carry the signer's public key and sequence.
        let tx_bytes = self.sign(signer, body, account_number, sequence, 0, 0)?;
        #[allow(deprecated)]
        let request = SimulateRequest { tx: None, tx_bytes };
        let response = TxService::new(self.channel.clone()).simulate(request).await.map_err(|s| match s.code() {
            tonic::Code::Unavailable => self.status_error(s),
            _ => ClientError::Simulation(s.message().to_string()),
        })?;
        response
            .into_inner()
            .gas_info
            .map(|g| g.gas_used)
            .ok_or_else(|| ClientError::Decode("simulation answered without gas_info".into()))
    }

    fn sign(
        &self,
        signer: &Signer,
        body: &Body,
        account_number: u64,
        sequence: u64,
        gas_limit: u64,
        fee_amount: u128,
    ) -> Result<Vec<u8>, ClientError> {
        let denom =
            self.config.gas_price.denom().parse().map_err(|e| ClientError::Config(format!("fee denom: {e}")))?;
        let fee = Fee::from_amount_and_gas(Coin { denom, amount: fee_amount }, gas_limit);
        let auth_info = SignerInfo::single_direct(Some(signer.public_key()), sequence).auth_info(fee);
        let sign_doc = SignDoc::new(
            body,
            &auth_info,
            &self.config.chain_id.parse().map_err(|e| ClientError::Config(format!("chain id: {e}")))?,
            account_number,
        )
        .map_err(|e| ClientError::Key(format!("sign doc: {e}")))?;
        let raw = sign_doc.sign(signer.signing_key()).map_err(|e| ClientError::Key(format!("signing: {e}")))?;
        raw.to_bytes().map_err(|e| ClientError::Key(format!("encoding: {e}")))
    }

    /// Polls `GetTx` until the transaction is in a block or the inclusion timeout passes.
    async fn wait_for_inclusion(&self, txhash: &str, signer: &Signer) -> Result<TxOutcome, ClientError> {
        let started = Instant::now();
        let mut service = TxService::new(self.channel.clone());
        loop {
            match service.get_tx(GetTxRequest { hash: txhash.to_string() }).await {
                Ok(r) => {
                    if let Some(response) = r.into_inner().tx_response {
                        check_code(&response, signer)?;
                        return Ok(TxOutcome::from_response(&response));
                    }
                }
                // Not yet in a block; a node restarting in the meantime answers Unavailable.
                Err(s) if matches!(s.code(), tonic::Code::NotFound | tonic::Code::Unavailable) => {}
                Err(s) => return Err(self.status_error(s)),
            }
            if started.elapsed() > self.config.inclusion_timeout {
                return Err(ClientError::InclusionTimeout {
                    txhash: txhash.to_string(),
                    secs: self.config.inclusion_timeout.as_secs(),
                });
            }
            tokio::time::sleep(INCLUSION_POLL).await;
        }
    }
}

/// Turns a non-zero result code into the matching error.
fn check_code(r: &TxResponse, signer: &Signer) -> Result<(), ClientError> {
    if r.code == 0 {
        return Ok(());
    }
    let rejected = RejectedTx {
        txhash: (!r.txhash.is_empty()).then(|| r.txhash.clone()),
        code: r.code,
        codespace: r.codespace.clone(),
        raw_log: r.raw_log.clone(),
    };
    Err(rejected.into_error(signer))
}

/// A transaction the node refused or failed, however it told us.
#[derive(Debug, PartialEq)]
struct RejectedTx {
    txhash: Option<String>,
    code: u32,
    codespace: String,
    raw_log: String,
}

impl RejectedTx {
    /// Reads CometBFT's `tx HASH is invalid: code=13, data=, log='...', codespace='sdk'` text.
    fn parse(message: &str) -> Option<Self> {
        let between = |start: &str, end: &str| {
            let from = message.find(start)? + start.len();
            let len = message[from..].find(end)?;
            Some(message[from..from + len].to_string())
        };
        let code = between("code=", ",")?.parse().ok()?;
        let codespace = between("codespace='", "'").unwrap_or_default();
        let raw_log = between("log='", "', codespace").unwrap_or_else(|| message.to_string());
        let txhash = between("tx ", " is invalid");
        Some(RejectedTx { txhash, code, codespace, raw_log })
    }

    fn into_error(self, signer: &Signer) -> ClientError {
        let sdk = self.codespace == "sdk";
        match self.code {
            sdk_code::INSUFFICIENT_FEE if sdk => ClientError::InsufficientFee { raw_log: self.raw_log },
            sdk_code::INSUFFICIENT_FUNDS if sdk => {
                ClientError::InsufficientFunds { address: signer.address().to_string(), raw_log: self.raw_log }
            }
            _ => ClientError::TxFailed {
                txhash: self.txhash,
                code: self.code,
                codespace: self.codespace,
                raw_log: self.raw_log,
            },
        }
    }
}

fn to_any(msg: impl Msg) -> Result<Any, ClientError> {
    msg.to_any().map_err(|e| ClientError::Config(format!("encoding message: {e}")))
}

/// The innermost cause of a transport error is the one that says what went wrong ("Connection refused").
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_tx_failure_in_a_grpc_error_is_understood() {
        let message = "broadcast error on transaction validation: tx 84D9 is invalid: code=13, data=, \
                       log='insufficient fees; got: 1inj required: 32000000000000inj: insufficient fee', codespace='sdk'";
        let rejected = RejectedTx::parse(message).unwrap();
        assert_eq!(
            rejected,
            RejectedTx {
                txhash: Some("84D9".into()),
                code: 13,
                codespace: "sdk".into(),
                raw_log: "insufficient fees; got: 1inj required: 32000000000000inj: insufficient fee".into()
            }
        );
    }

    #[test]
    fn other_grpc_errors_are_not_mistaken_for_rejections() {
        assert_eq!(RejectedTx::parse("transport error"), None);
    }
}
