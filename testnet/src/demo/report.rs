//! The demo's report: what happened in each round and in the settlement, as console tables, as
//! JSON (`report.json`, documented in the README) and as a self-contained HTML page with charts.

use serde::{Deserialize, Serialize};

use super::report_lm::LmReport;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// The digits task's.
    pub task_id: u64,
    /// The chain's validator nodes at the end of the run.
    pub chain: Vec<ChainNodeReport>,
    pub rounds: Vec<RoundReport>,
    /// The eval thief's attempts to read the sealed evaluation shards.
    pub shard_thefts: Vec<TheftReport>,
    /// Per validator, over all rounds.
    pub validators: Vec<ValidatorReport>,
    pub settlement: SettlementReport,
    /// The language-model task run beside the digits task (the validators above work both).
    pub language_model: Option<LmReport>,
    /// Wall time of each stage, in order.
    pub stages: Vec<Stage>,
    pub totals: Totals,
    /// Where the explorer served the run (it keeps serving with `--keep-running`).
    pub explorer_url: String,
}

/// One validator node of the demo's chain.
#[derive(Clone, Debug, Serialize)]
pub struct ChainNodeReport {
    /// `chain`, `chain-1`, ...
    pub name: String,
    pub power: u64,
    pub grpc: String,
    /// Its latest height at the end of the run (none: it did not answer).
    pub height: Option<u64>,
    /// The participants (worker nodes and relayers) whose own node it is; each fails over to the
    /// other nodes.
    pub readers: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RoundReport {
    pub round: u32,
    /// Tokens the round emitted from the pool.
    pub emission: u128,
    /// Paid to trainers and validators; `emission - paid` (rounding dust) went back to the pool.
    pub paid: u128,
    /// The height by which the creator's beacon of this round was seen revealed; none: the
    /// round's sampling went ahead without it.
    pub beacon_revealed_by: Option<u64>,
    /// The height by which the round's evaluation key was seen on chain (its shard readable from
    /// then on); none: never, and the round is void.
    pub key_revealed_by: Option<u64>,
    /// Until when the creator could reveal the key.
    pub key_deadline: u64,
    pub void: bool,
    pub submissions: Vec<SubmissionReport>,
}

/// One attempt of the eval thief at one sealed shard, as its node recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TheftReport {
    /// The round the thief was training for.
    pub round: u32,
    pub shard_round: u32,
    pub height: u64,
    pub key_on_chain: bool,
    /// Rows it read, when the shard opened.
    pub opened_rows: Option<usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SubmissionReport {
    pub submission_id: u64,
    pub trainer: String,
    pub model: String,
    pub consensus: Option<u32>,
    /// The consensus of the baselines its validators measured (majority-class accuracy on the
    /// round's shard): the score to beat for a reward.
    pub baseline: Option<u32>,
    pub rank: Option<u32>,
    pub reward: u128,
    pub status: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ValidatorReport {
    pub name: String,
    pub address: String,
    pub reveals: u32,
    pub in_consensus: u32,
    /// Mean |score - consensus| over its reveals, in ppm.
    pub mean_deviation: u64,
    /// All the validator earned (claimable before withdrawing).
    pub reward: u128,
    pub slashed: u128,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SettlementReport {
    pub batches: Vec<BatchReport>,
    pub claims: Vec<ClaimReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BatchReport {
    pub batch_id: u64,
    pub leaves: u32,
    pub total: u128,
    pub root: String,
    pub evm_tx: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClaimReport {
    pub name: String,
    pub evm_address: String,
    /// What the participant withdrew on the Cosmos side.
    pub withdrawn: u128,
    pub claim_tx: String,
    /// Its ERC-20 balance on the EVM node after claiming.
    pub evm_balance: u128,
}

#[derive(Clone, Debug, Serialize)]
pub struct Stage {
    pub name: String,
    pub seconds: f64,
}

/// Across both tasks: the validators' rewards (claimable per account) cannot be told apart by task.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    pub pool: u128,
    pub emitted: u128,
    pub paid: u128,
    pub slashed: u128,
    pub withdrawn_to_evm: u128,
    pub claimed_on_evm: u128,
    /// Rewards below the market's smallest EVM withdrawal, claimed as cw20 on the Cosmos side.
    pub claimed_on_cosmos: u128,
}

/// When a round's key was seen on chain, against its deadline.
fn key_text(r: &RoundReport) -> String {
    match (r.key_revealed_by, r.void) {
        (Some(h), _) => format!("revealed by height {h} (deadline {})", r.key_deadline),
        (None, true) => format!("not revealed by its deadline {}: the round is void", r.key_deadline),
        (None, false) => format!("not seen (deadline {})", r.key_deadline),
    }
}

/// "4 validators, voting power 1 each": the chain in a few words.
fn chain_summary(nodes: &[ChainNodeReport]) -> String {
    let total: u64 = nodes.iter().map(|n| n.power).sum();
    let powers: Vec<String> = nodes.iter().map(|n| n.power.to_string()).collect();
    // CometBFT commits a block with more than two thirds of the voting power.
    format!(
        "{} validator node(s), voting power {} (total {total}; blocks need {} of it online)",
        nodes.len(),
        powers.join(", "),
        total * 2 / 3 + 1
    )
}

fn height(h: Option<u64>) -> String {
    h.map_or("-".into(), |h| h.to_string())
}

pub(super) fn tokens(micro: u128) -> String {
    format!("{}.{:06}", micro / 1_000_000, micro % 1_000_000)
}

fn score(ppm: Option<u32>) -> String {
    ppm.map_or("-".into(), |s| format!("{:.2}%", s as f64 / 10_000.0))
}

impl Report {
    /// The tables printed at the end of the demo.
    pub fn to_text(&self) -> String {
        let mut out = format!("\nChain: {}\n", chain_summary(&self.chain));
        out += &format!("  {:<8} {:>5} {:>8} {:<24}  {}\n", "node", "power", "height", "gRPC", "own node of");
        for n in &self.chain {
            out += &format!(
                "  {:<8} {:>5} {:>8} {:<24}  {}\n",
                n.name,
                n.power,
                height(n.height),
                n.grpc,
                n.readers.join(", ")
            );
        }
        for r in &self.rounds {
            let beacon = r.beacon_revealed_by.map_or("not revealed".into(), |h| format!("revealed by height {h}"));
            out += &format!(
                "\nRound {}: emission {} ARENA, paid {}; beacon {beacon}; evaluation key {}\n",
                r.round,
                tokens(r.emission),
                tokens(r.paid),
                key_text(r)
            );
            out += &format!(
                "  {:<4} {:<16} {:<12} {:>10} {:>9} {:>5} {:>14}  {}\n",
                "sub", "trainer", "model", "consensus", "baseline", "rank", "reward", "status"
            );
            for s in &r.submissions {
                let rank = s.rank.map_or("-".into(), |r| (r + 1).to_string());
                out += &format!(
                    "  {:<4} {:<16} {:<12} {:>10} {:>9} {:>5} {:>14}  {}\n",
                    s.submission_id,
                    s.trainer,
                    s.model,
                    score(s.consensus),
                    score(s.baseline),
                    rank,
                    tokens(s.reward),
                    s.status
                );
            }
        }
        if let Some(lm) = &self.language_model {
            out += &lm.to_text();
        }
        out += "\nFair play: submissions that earned nothing by rule\n";
        for line in self.fair_play_lines() {
            out += &format!("  {line}\n");
        }
        out += "\nHidden evaluation shards: the eval thief's attempts\n";
        for line in self.theft_lines() {
            out += &format!("  {line}\n");
        }
        out += "\nValidators (both tasks, all rounds)\n";
        out += &format!(
            "  {:<16} {:>7} {:>12} {:>14} {:>14} {:>12}\n",
            "validator", "reveals", "in consensus", "mean deviation", "reward", "slashed"
        );
        for v in &self.validators {
            out += &format!(
                "  {:<16} {:>7} {:>12} {:>13.2}% {:>14} {:>12}\n",
                v.name,
                v.reveals,
                v.in_consensus,
                v.mean_deviation as f64 / 10_000.0,
                tokens(v.reward),
                tokens(v.slashed)
            );
        }
        out += "\nSettlement on the EVM node (Base Sepolia stand-in)\n";
        for b in &self.settlement.batches {
            out += &format!(
                "  batch {}: {} leaves, {} ARENA, root {}, posted in {}\n",
                b.batch_id,
                b.leaves,
                tokens(b.total),
                b.root,
                b.evm_tx.as_deref().unwrap_or("-")
            );
        }
        out += &format!("  {:<16} {:<44} {:>14} {:>14}\n", "participant", "EVM address", "withdrawn", "ERC-20 balance");
        for c in &self.settlement.claims {
            out += &format!(
                "  {:<16} {:<44} {:>14} {:>14}\n",
                c.name,
                c.evm_address,
                tokens(c.withdrawn),
                tokens(c.evm_balance)
            );
        }
        let t = &self.totals;
        out += &format!(
            "\nTotals: pool {} ARENA, emitted {}, paid {}, slashed {}, withdrawn to EVM {}, claimed on EVM {}, claimed on Cosmos {}\n",
            tokens(t.pool),
            tokens(t.emitted),
            tokens(t.paid),
            tokens(t.slashed),
            tokens(t.withdrawn_to_evm),
            tokens(t.claimed_on_evm),
            tokens(t.claimed_on_cosmos)
        );
        out += "Stages:";
        for s in &self.stages {
            out += &format!(" {} {:.1} s;", s.name, s.seconds);
        }
        out + "\n"
    }

    /// Every submission the market's fair-play rules left unpaid, and why.
    fn fair_play_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for r in &self.rounds {
            for sub in &r.submissions {
                let why = match sub.status.as_str() {
                    "Duplicate" => "its model's hash was revealed earlier by another trainer (a copy)".to_string(),
                    "BelowBaseline" => format!(
                        "consensus {} does not beat the baseline {} (always answering the most frequent label)",
                        score(sub.consensus),
                        score(sub.baseline)
                    ),
                    "Unrevealed" => "its sealed commitment was never opened".to_string(),
                    "Void" => "the round's evaluation key was never revealed".to_string(),
                    _ => continue,
                };
                lines.push(format!(
                    "round {}: {} ({}) {}, reward {}: {why}",
                    r.round,
                    sub.trainer,
                    sub.model,
                    sub.status,
                    tokens(sub.reward)
                ));
            }
        }
        lines
    }

    /// Each attempt of the eval thief, set against when the shard's key was seen on chain, then
    /// per shard whether any attempt before its key opened it.
    fn theft_lines(&self) -> Vec<String> {
        let key_of = |round: u32| self.rounds.iter().find(|r| r.round == round).and_then(|r| r.key_revealed_by);
        let mut lines: Vec<String> = self
            .shard_thefts
            .iter()
            .map(|t| {
                let what = match t.opened_rows {
                    Some(rows) => format!("opened ({rows} rows, its key on chain)"),
                    None if t.key_on_chain => "did not open although its key was on chain".to_string(),
                    None => "sealed: no key on chain, and a guessed key does not open it".to_string(),
                };
                format!("training for round {}, at height {}: shard {} {what}", t.round, t.height, t.shard_round)
            })
            .collect();
        for r in &self.rounds {
            let before: Vec<&TheftReport> = self
                .shard_thefts
                .iter()
                .filter(|t| t.shard_round == r.round && key_of(r.round).is_none_or(|k| t.height < k))
                .collect();
            let opened = before.iter().filter(|t| t.opened_rows.is_some()).count();
            lines.push(format!(
                "shard {}: {} attempts before its key ({}), {opened} opened",
                r.round,
                before.len(),
                key_text(r)
            ));
        }
        lines
    }

    /// A self-contained page: SVG bar charts and the tables as HTML tables (click a header to
    /// sort), readable at phone width.
    pub fn to_html(&self) -> String {
        let json = serde_json::to_string(self).expect("the report serializes");
        let mut body = String::new();
        body += &format!("<h1>Arena demo: task {}</h1>", self.task_id);
        body += &format!("<h2>Chain</h2><p>{}.</p>", html_escape(&chain_summary(&self.chain)));
        let rows = self
            .chain
            .iter()
            .map(|n| vec![n.name.clone(), n.power.to_string(), height(n.height), n.grpc.clone(), n.readers.join(", ")]);
        body += &table(&["node", "voting power", "height", "gRPC", "own node of"], rows);
        body += "<h2>Consensus score per round</h2>";
        let mut bars = Vec::new();
        for r in &self.rounds {
            for s in &r.submissions {
                bars.push((format!("r{} {}", r.round, s.trainer), s.consensus.unwrap_or(0) as f64 / 10_000.0, "%"));
            }
        }
        body += &bar_chart(&bars);
        body += "<h2>Rewards per participant (ARENA)</h2>";
        let mut rewards: Vec<(String, f64, &str)> = Vec::new();
        let lm_rounds = self.language_model.iter().flat_map(|lm| &lm.rounds);
        for r in self.rounds.iter().chain(lm_rounds) {
            for s in &r.submissions {
                match rewards.iter_mut().find(|(n, _, _)| *n == s.trainer) {
                    Some(entry) => entry.1 += s.reward as f64 / 1e6,
                    None => rewards.push((s.trainer.clone(), s.reward as f64 / 1e6, "")),
                }
            }
        }
        rewards.extend(self.validators.iter().map(|v| (v.name.clone(), v.reward as f64 / 1e6, "")));
        body += &bar_chart(&rewards);
        for r in &self.rounds {
            let beacon = r.beacon_revealed_by.map_or("not revealed".into(), |h| format!("revealed by height {h}"));
            body += &format!(
                "<h2>Round {}</h2><p>Emission {} ARENA, paid {}; beacon {beacon}; evaluation key {}.</p>",
                r.round,
                tokens(r.emission),
                tokens(r.paid),
                html_escape(&key_text(r))
            );
            let rows = r.submissions.iter().map(|s| {
                vec![
                    s.submission_id.to_string(),
                    s.trainer.clone(),
                    s.model.clone(),
                    score(s.consensus),
                    score(s.baseline),
                    s.rank.map_or("-".into(), |r| (r + 1).to_string()),
                    tokens(s.reward),
                    s.status.clone(),
                ]
            });
            body += &table(&["sub", "trainer", "model", "consensus", "baseline", "rank", "reward", "status"], rows);
        }
        if let Some(lm) = &self.language_model {
            body += &lm.to_html();
        }
        body += "<h2>Fair play: submissions that earned nothing by rule</h2><ul>";
        for line in self.fair_play_lines() {
            body += &format!("<li>{}</li>", html_escape(&line));
        }
        body += "</ul>";
        body += "<h2>Hidden evaluation shards: the eval thief's attempts</h2><ul>";
        for line in self.theft_lines() {
            body += &format!("<li>{}</li>", html_escape(&line));
        }
        body += "</ul>";
        body += "<h2>Validators (both tasks, all rounds)</h2>";
        let rows = self.validators.iter().map(|v| {
            vec![
                v.name.clone(),
                v.reveals.to_string(),
                v.in_consensus.to_string(),
                format!("{:.2}%", v.mean_deviation as f64 / 10_000.0),
                tokens(v.reward),
                tokens(v.slashed),
            ]
        });
        body += &table(&["validator", "reveals", "in consensus", "mean deviation", "reward", "slashed"], rows);
        body += "<h2>Settlement on the EVM node (Base Sepolia stand-in)</h2>";
        let rows = self.settlement.batches.iter().map(|b| {
            vec![
                b.batch_id.to_string(),
                b.leaves.to_string(),
                tokens(b.total),
                b.root.clone(),
                b.evm_tx.clone().unwrap_or_else(|| "-".into()),
            ]
        });
        body += &table(&["batch", "leaves", "total", "root", "posted in"], rows);
        let rows = self
            .settlement
            .claims
            .iter()
            .map(|c| vec![c.name.clone(), c.evm_address.clone(), tokens(c.withdrawn), tokens(c.evm_balance)]);
        body += &table(&["participant", "EVM address", "withdrawn", "ERC-20 balance"], rows);
        let t = &self.totals;
        let rows = [
            ("pool", t.pool),
            ("emitted", t.emitted),
            ("paid", t.paid),
            ("slashed", t.slashed),
            ("withdrawn to EVM", t.withdrawn_to_evm),
            ("claimed on EVM", t.claimed_on_evm),
            ("claimed on Cosmos", t.claimed_on_cosmos),
        ]
        .into_iter()
        .map(|(name, v)| vec![name.to_string(), tokens(v)]);
        body += "<h2>Totals (ARENA)</h2>";
        body += &table(&["", "amount"], rows);
        body += "<h2>Stages</h2>";
        body += &table(
            &["stage", "seconds"],
            self.stages.iter().map(|s| vec![s.name.clone(), format!("{:.1}", s.seconds)]),
        );
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Arena demo report</title>\
             <style>{STYLE}</style></head><body>{body}\
             <script type=\"application/json\" id=\"report\">{}</script><script>{SORT_SCRIPT}</script></body></html>\n",
            html_escape(&json)
        )
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1em auto;max-width:70em;padding:0 1em}\
    .scroll{overflow-x:auto}table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:14px}\
    th,td{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}\
    th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}\
    th{cursor:pointer;background:#f3f5f8;user-select:none}th:after{content:' \\2195';color:#aaa}\
    svg{width:100%;max-width:720px;height:auto}.bar{fill:#3b6fb6}text{font-size:12px}\
    .sample,.samples td{font-family:monospace;white-space:pre-wrap;text-align:left}";

/// Sorts a table by the clicked header, numbers as numbers (a leading number, as in "12.50%").
const SORT_SCRIPT: &str = "document.querySelectorAll('table').forEach(t=>t.querySelectorAll('th').forEach((th,i)=>\
    th.addEventListener('click',()=>{const body=t.tBodies[0],rows=[...body.rows],up=th.dataset.up!=='1';\
    const key=r=>{const s=r.cells[i].textContent,n=parseFloat(s);return isNaN(n)?s:n};\
    rows.sort((a,b)=>{const x=key(a),y=key(b);return (x<y?-1:x>y?1:0)*(up?1:-1)});\
    th.dataset.up=up?'1':'0';rows.forEach(r=>body.appendChild(r))})));";

/// An HTML table (in a horizontally scrolling box, for narrow screens).
pub(super) fn table(headers: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut html = String::from("<div class=\"scroll\"><table><thead><tr>");
    for h in headers {
        html += &format!("<th>{}</th>", html_escape(h));
    }
    html += "</tr></thead><tbody>";
    for row in rows {
        html += "<tr>";
        for cell in row {
            html += &format!("<td>{}</td>", html_escape(&cell));
        }
        html += "</tr>";
    }
    html + "</tbody></table></div>"
}

/// Horizontal bars, one per (label, value, unit), scaled to the largest value. Drawn in a
/// 480-unit-wide box that scales to the page, so labels stay legible at phone width.
fn bar_chart(bars: &[(String, f64, &str)]) -> String {
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1e-9);
    let height = 22 * bars.len() + 10;
    let mut svg = format!("<svg viewBox=\"0 0 480 {height}\" role=\"img\">");
    for (i, (label, value, unit)) in bars.iter().enumerate() {
        let y = 5 + 22 * i;
        let width = (value / max * 230.0).max(1.0);
        svg += &format!(
            "<text x=\"0\" y=\"{}\">{}</text><rect class=\"bar\" x=\"170\" y=\"{y}\" width=\"{width:.1}\" height=\"16\"/>\
             <text x=\"{:.1}\" y=\"{}\">{value:.2}{unit}</text>",
            y + 12,
            html_escape(label),
            175.0 + width,
            y + 12
        );
    }
    svg + "</svg>"
}

pub(super) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let node = |name: &str, grpc: u16, height: Option<u64>, readers: &[&str]| ChainNodeReport {
            name: name.into(),
            power: 1,
            grpc: format!("http://127.0.0.1:{grpc}"),
            height,
            readers: readers.iter().map(|r| r.to_string()).collect(),
        };
        Report {
            task_id: 7,
            chain: vec![
                node("chain", 9090, Some(312), &["creator", "relayer-1"]),
                node("chain-1", 9190, None, &["relayer-2"]),
            ],
            rounds: vec![RoundReport {
                round: 1,
                emission: 50_000_000,
                paid: 49_999_998,
                beacon_revealed_by: Some(196),
                key_revealed_by: Some(215),
                key_deadline: 230,
                void: false,
                submissions: vec![
                    SubmissionReport {
                        submission_id: 1,
                        trainer: "trainer-<strong>".into(),
                        model: "mlp:128,64".into(),
                        consensus: Some(931_000),
                        baseline: Some(105_000),
                        rank: Some(0),
                        reward: 30_000_000,
                        status: "Scored".into(),
                    },
                    SubmissionReport {
                        submission_id: 2,
                        trainer: "trainer-copy".into(),
                        model: "mlp:128,64".into(),
                        consensus: None,
                        baseline: None,
                        rank: None,
                        reward: 0,
                        status: "Duplicate".into(),
                    },
                ],
            }],
            shard_thefts: vec![
                TheftReport { round: 1, shard_round: 1, height: 40, key_on_chain: false, opened_rows: None },
                TheftReport { round: 2, shard_round: 1, height: 300, key_on_chain: true, opened_rows: Some(179) },
            ],
            validators: vec![ValidatorReport {
                name: "validator-a".into(),
                address: "inj1a".into(),
                reveals: 3,
                in_consensus: 3,
                mean_deviation: 0,
                reward: 5_000_000,
                slashed: 0,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn the_html_report_has_real_tables_and_escapes_names() {
        let html = report().to_html();
        // Chain, round, validators, batches, claims, totals, stages.
        assert_eq!(html.matches("<table>").count(), 7);
        assert!(html.contains("<td>chain-1</td><td>1</td><td>-</td><td>http://127.0.0.1:9190</td><td>relayer-2</td>"));
        assert!(html
            .contains("<td>trainer-&lt;strong&gt;</td><td>mlp:128,64</td><td>93.10%</td><td>10.50%</td><td>1</td><td>30.000000</td>"));
        assert!(!html.contains("<strong>"), "a name must not become markup");
        assert!(html.contains("name=\"viewport\"") && html.contains("<svg viewBox="));
        assert!(!html.contains("<pre>"));
    }

    #[test]
    fn the_text_report_lists_every_submission_and_validator() {
        let text = report().to_text();
        assert!(
            text.contains("Chain: 2 validator node(s), voting power 1, 1 (total 2; blocks need 2 of it online)"),
            "{text}"
        );
        assert!(text.contains("  chain        1      312 http://127.0.0.1:9090     creator, relayer-1\n"), "{text}");
        assert!(text.contains(
            "Round 1: emission 50.000000 ARENA, paid 49.999998; beacon revealed by height 196; evaluation key revealed by height 215 (deadline 230)"
        ));
        assert!(text.contains("training for round 1, at height 40: shard 1 sealed: no key on chain"), "{text}");
        assert!(
            text.contains(
                "round 1: trainer-copy (mlp:128,64) Duplicate, reward 0.000000: its model's hash was revealed earlier"
            ),
            "{text}"
        );
        assert!(text.contains("training for round 2, at height 300: shard 1 opened (179 rows"), "{text}");
        assert!(
            text.contains("shard 1: 1 attempts before its key (revealed by height 215 (deadline 230)), 0 opened"),
            "{text}"
        );
        assert!(text.contains("trainer-<strong>") && text.contains("validator-a"));
    }
}
