//! arena-client's re-signing after an account-sequence mismatch, on a real local chain: one
//! account sends several transactions at once, so all but the first sign a sequence the
//! node's mempool has already moved past.

use arena_client::{Client, Signer};
use cosmwasm_std::Uint128;
use cw20::{BalanceResponse, Cw20ExecuteMsg, Cw20QueryMsg};
use testnet::network::{NetworkConfig, Ports};
use testnet::{accounts, contracts, deploy, Network};

async fn token_balance(client: &Client, token: &str, who: &Signer) -> u128 {
    let query = Cw20QueryMsg::Balance { address: who.address().to_string() };
    let answer: BalanceResponse = client.query_contract(token, &query).await.unwrap();
    answer.balance.u128()
}

#[tokio::test]
async fn concurrent_sends_from_one_account_are_re_signed_and_all_land() {
    let home = tempfile::tempdir().unwrap();
    let network = Network::start(&NetworkConfig::new(home.path(), Ports::free().unwrap())).unwrap();
    let artifacts = contracts::build(&["arena-token"]).unwrap();
    let client = Client::connect(network.chain_config()).await.unwrap();
    let token = deploy::deploy(&client, &artifacts, None).await.unwrap().remove("arena-token").unwrap().address;
    let prefix = client.config().bech32_prefix.clone();
    let (alice, bob) = (accounts::cosmos(1, &prefix).unwrap(), accounts::cosmos(2, &prefix).unwrap());
    let (_, sequence_before) = client.account_numbers(alice.address()).await.unwrap();
    let bob_before = token_balance(&client, &token, &bob).await;

    // Three transfers at once, all reading the same sequence before any is in a block.
    let transfer = |amount: u128| {
        let msg = Cw20ExecuteMsg::Transfer { recipient: bob.address().to_string(), amount: Uint128::new(amount) };
        let (client, alice, token) = (&client, &alice, token.clone());
        async move { client.execute(alice, &token, &msg, vec![]).await }
    };
    let (a, b, c) = tokio::join!(transfer(1), transfer(20), transfer(300));
    for (amount, result) in [(1, a), (20, b), (300, c)] {
        let outcome = result.unwrap_or_else(|e| panic!("the transfer of {amount} failed: {e}"));
        assert!(outcome.gas_used > 0);
    }

    assert_eq!(token_balance(&client, &token, &bob).await, bob_before + 321);
    let (_, sequence_after) = client.account_numbers(alice.address()).await.unwrap();
    assert_eq!(sequence_after, sequence_before + 3, "three transactions, each signed once with the right sequence");
    network.stop().unwrap();
}
