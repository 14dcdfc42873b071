//! The README's main job, reduced to one round: the whole arena runs (the creator, worker nodes
//! and relayers as processes) and its report is checked against what the design promises. (The
//! copycat needs a second round to copy from: `testnet demo` runs two.) The chain is the demo's
//! default: four validators, each participant reading a node of its own. Beside the digits task,
//! the language-model task runs its one round, of the same length.

use testnet::demo::lm::MAX_LORA_RANK;
use testnet::demo::{self, DemoOptions};
use testnet::task::PhaseBlocks;

const PHASES: PhaseBlocks = PhaseBlocks { submission: 70, model_reveal: 25, commit: 60, reveal: 45 };

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_round_of_the_demo_pays_by_the_rules_and_settles_on_the_evm_side() {
    let home = tempfile::tempdir().unwrap();
    // k = 4 of 4 validators: with no more validators than k the contract takes them all, so the
    // liar scores every submission and one round shows what it earns.
    let defaults = DemoOptions::new(home.path().join("demo"));
    let opts = DemoOptions {
        rounds: 1,
        phases: PHASES,
        validators_per_submission: 4,
        language_model: demo::lm::LmOptions { phases: PHASES, ..defaults.language_model.clone() },
        ..defaults
    };
    let report = demo::run(&opts).await.unwrap();
    println!("{}", report.to_text());
    // The demo's chain: four validators of equal power, all following the chain to the end, each
    // the own node of its share of the participants; relayer i reads node i.
    assert_eq!(opts.chain_validators, 4);
    assert_eq!(report.chain.len(), 4, "{:?}", report.chain);
    let top = report.chain.iter().filter_map(|n| n.height).max().unwrap();
    for (i, node) in report.chain.iter().enumerate() {
        assert_eq!(node.power, 1);
        assert!(node.height.is_some_and(|h| h + 5 >= top), "{node:?} fell behind {top}");
        assert!(node.readers.contains(&format!("relayer-{}", i + 1)) || i == 3, "{node:?}");
        assert!(!node.readers.is_empty(), "{node:?}");
    }
    // The explorer served the run (the demo waited for it to answer) and stopped with it.
    let port: u16 = report.explorer_url.trim_start_matches("http://127.0.0.1:").trim_end_matches('/').parse().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "the explorer stops with the demo");

    // The dishonest validator is out of consensus on every reveal and earns nothing.
    let liar = report.validators.iter().find(|v| v.name == "validator-liar").unwrap();
    assert!(liar.reveals > 0 && liar.in_consensus == 0 && liar.reward == 0 && liar.slashed > 0, "{liar:?}");
    for honest in report.validators.iter().filter(|v| v.name != "validator-liar" && v.reveals > 0) {
        assert_eq!((honest.in_consensus, honest.mean_deviation, honest.slashed), (honest.reveals, 0, 0), "{honest:?}");
    }
    // Every trainer sealed and revealed a model; the weak one, no better than always answering
    // the most frequent digit, earns nothing; those that beat the baseline are paid.
    for round in &report.rounds {
        assert_eq!(round.submissions.len(), 5, "round {}", round.round);
        let weak = round.submissions.iter().find(|s| s.trainer == "trainer-weak").unwrap();
        assert_eq!((weak.status.as_str(), weak.reward), ("BelowBaseline", 0), "{weak:?}");
        assert!(weak.consensus <= weak.baseline && weak.baseline.is_some(), "{weak:?}");
        let strong = round.submissions.iter().find(|s| s.trainer == "trainer-strong").unwrap();
        assert!(strong.status == "Scored" && strong.reward > 0 && strong.consensus > strong.baseline, "{strong:?}");
        // The round's key came out before its deadline.
        assert!(round.key_revealed_by.is_some_and(|h| h <= round.key_deadline + 1) && !round.void, "{round:?}");
        // Rounding dust stays in the pool: paid never exceeds the emission, and by less than a token unit per participant.
        assert!(round.paid <= round.emission && round.emission - round.paid < 10, "round {}", round.round);
    }
    // The language-model task's round finalized beside it: the adapters within the rank limit beat
    // the base (fewer bits per byte) and are paid; the rank-8 one is refused by its validators.
    let lm = report.language_model.as_ref().expect("the language-model task ran");
    assert_eq!(lm.rounds.len(), 1);
    for round in &lm.rounds {
        assert!(round.key_revealed_by.is_some() && !round.void && round.paid > 0, "{round:?}");
        assert!(round.paid <= round.emission && round.emission - round.paid < 10, "{round:?}");
    }
    assert_eq!(lm.leaderboard.len(), 3, "{:?}", lm.leaderboard);
    for entry in &lm.leaderboard {
        if entry.lora_rank > MAX_LORA_RANK as usize {
            assert_eq!(
                (entry.score_ppm, entry.status.as_str(), entry.reward),
                (Some(0), "BelowBaseline", 0),
                "{entry:?}"
            );
        } else {
            let (bits, base) = (entry.bits_per_byte.unwrap(), entry.baseline_bits_per_byte.unwrap());
            assert!(entry.status == "Scored" && entry.reward > 0 && bits < base, "{entry:?}");
        }
    }
    // A few samples of every model: the base and each trainer's adapter.
    assert_eq!(lm.samples.len(), opts.language_model.sample_prompts);
    for prompt in &lm.samples {
        let models: Vec<&str> = prompt.samples.iter().map(|s| s.model.as_str()).collect();
        assert_eq!(models, ["base", "lm-trainer-r2", "lm-trainer-r4", "lm-trainer-r8"], "{prompt:?}");
        assert!(!prompt.prompt.is_empty() && prompt.samples.iter().all(|s| !s.text.is_empty()), "{prompt:?}");
    }
    // Everything paid, by both tasks (the totals are across them: a validator's rewards are one
    // claimable balance), is accounted for: the trainers' and validators' rewards add up to it.
    let all_rounds = report.rounds.iter().chain(&lm.rounds);
    let trainers: u128 = all_rounds.flat_map(|r| &r.submissions).map(|s| s.reward).sum();
    let validators: u128 = report.validators.iter().map(|v| v.reward).sum();
    assert_eq!(trainers + validators, report.totals.paid);
    // The eval thief tried every shard, and none opened before its round's key was on chain.
    assert!(!report.shard_thefts.is_empty());
    for t in &report.shard_thefts {
        let key = report.rounds.iter().find(|r| r.round == t.shard_round).and_then(|r| r.key_revealed_by);
        if key.is_none_or(|k| t.height < k) {
            assert_eq!((t.key_on_chain, t.opened_rows), (false, None), "{t:?}");
        }
    }
    // The creator node revealed every round's beacon before the round's sampling.
    for round in &report.rounds {
        assert!(round.beacon_revealed_by.is_some(), "round {}'s sampling went ahead without the beacon", round.round);
    }
    // Everything paid left the market: to the EVM side, or (below its minimum) claimed on Cosmos.
    assert_eq!(report.totals.withdrawn_to_evm + report.totals.claimed_on_cosmos, report.totals.paid);
    // What was withdrawn is exactly what each recipient holds in ERC-20 on the EVM node.
    for claim in &report.settlement.claims {
        assert_eq!(claim.evm_balance, claim.withdrawn, "{claim:?}");
    }
    assert!(report.settlement.batches.iter().all(|b| b.evm_tx.is_some()));
    let (json, html) = demo::report_paths(&opts.home);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(json["language_model"]["leaderboard"].as_array().map(Vec::len), Some(3));
    let html = std::fs::read_to_string(html).unwrap();
    assert!(html.contains("Language-model task") && html.contains("lm-trainer-r4"));
}
