//! The HTML of every page (maud), from the view models. Charts are inline SVG drawn here; the
//! only script is `/assets/explorer.js` (live updates), the only style `/assets/explorer.css`.

use maud::{html, Markup, DOCTYPE};

use crate::source::RelayerState;
use crate::view::{
    tokens, BatchView, ChainView, ChartRound, ClaimRow, Overview, ParticipantView, PhaseClock, RecipientView,
    SettlementView, SubmissionView, TaskView, WithdrawalsView, LEADERBOARD_PAGE, WITHDRAWALS_PAGE,
};

/// A score in ppm as a percentage.
fn pct(ppm: Option<u32>) -> String {
    ppm.map(|v| format!("{:.2}%", f64::from(v) / 10_000.0)).unwrap_or_else(|| "-".into())
}

fn short(address: &str) -> String {
    if address.len() > 20 {
        format!("{}…{}", &address[..10], &address[address.len() - 6..])
    } else {
        address.to_string()
    }
}

fn address_link(address: &str) -> Markup {
    html! { a.addr href=(format!("/address/{address}")) title=(address) { (short(address)) } }
}

fn seconds(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} s")
    } else {
        format!("{:.1} min", s / 60.0)
    }
}

/// The frame of every page: header with search, the chain's status, the content, the cost.
pub fn layout(title: &str, chain: Option<&ChainView>, queries: Option<u32>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Arena explorer" }
                link rel="stylesheet" href="/assets/explorer.css";
                script src="/assets/explorer.js" defer {}
            }
            body {
                header {
                    a.brand href="/" { "Arena" }
                    nav { a href="/" { "Tasks" } a href="/settlement" { "Settlement" } }
                    form.search action="/search" method="get" {
                        input type="search" name="q" placeholder="address, task, batch or task/submission" aria-label="search";
                    }
                }
                (status_bar(chain))
                main #content {
                    (content)
                    @if let Some(q) = queries {
                        p.cost { "This page cost " span #queries { (q) } " contract queries." }
                    }
                }
            }
        }
    }
}

/// The live status line that the script keeps current.
fn status_bar(chain: Option<&ChainView>) -> Markup {
    html! {
        div #status .status data-height=(chain.map(|c| c.height).unwrap_or(0)) {
            @match chain {
                Some(c) if c.reachable => {
                    span.ok { "●" } " " (c.chain_id) " at height " b #height { (c.height) }
                    @if let Some(s) = c.block_seconds { " · " (format!("{s:.2}")) " s per block" }
                    span #live { " · live" }
                }
                Some(c) => {
                    span.down { "●" } " chain " (c.chain_id) " unreachable"
                    @if let Some(e) = &c.error { ": " (e) }
                    " (last height " b #height { (c.height) } ")"
                }
                None => { "chain status unknown" }
            }
        }
    }
}

pub fn error_page(status: u16, title: &str, message: &str, chain: Option<&ChainView>) -> Markup {
    layout(
        title,
        chain,
        None,
        html! {
            section.error {
                h1 { (status) " · " (title) }
                p { (message) }
                @if status == 503 { p { "This page reloads itself once the chain answers again." } }
                p { a href="/" { "Back to the tasks" } }
            }
        },
    )
}

pub fn overview(v: &Overview) -> Markup {
    layout(
        "Tasks",
        Some(&v.chain),
        Some(v.queries),
        html! {
            h1 { "Tasks" }
            div.cards {
                div.card { span { "Tasks" } b { (v.totals.tasks) } }
                div.card { span { "Staked" } b { (tokens(v.totals.staked)) } }
                div.card { span { "Rewards paid" } b { (tokens(v.totals.rewarded)) } }
                div.card { span { "Pools left" } b { (tokens(v.totals.pool)) } }
                div.card { span { "Slashed" } b { (tokens(v.totals.slashed)) } }
                @if let Some(s) = &v.settlement {
                    div.card { span { "Sealed for the EVM side" } b { (tokens(s.sealed_amount)) } }
                    div.card { span { "Queued for the EVM side" } b { (tokens(s.queued_amount)) } }
                    div.card { span { "Batches" } b { (s.batches) } }
                }
            }
            @if v.tasks.is_empty() {
                p { "No task yet." }
            } @else {
                div.scroll { table #tasks {
                    thead { tr { th { "task" } th { "metric" } th { "status" } th { "round" } th { "phase" } th.num { "pool left" } th.num { "trainers" } th.num { "validators" } th { "creator" } } }
                    tbody { @for t in &v.tasks {
                        tr {
                            td { a href=(format!("/task/{}", t.id)) { "#" (t.id) } }
                            td { (t.metric) }
                            td { @if t.finished { "finished" } @else { "running" } }
                            td { (t.round) " / " (t.rounds) }
                            td.phase { (t.phase) }
                            td.num { (tokens(t.pool)) }
                            td.num { (t.trainers) }
                            td.num { (t.validators) }
                            td { (address_link(&t.creator)) }
                        }
                    } }
                } }
            }
            @if let Some(after) = v.next_after { p { a href=(format!("/?after={after}")) { "More tasks →" } } }
        },
    )
}

fn clock(c: &PhaseClock) -> Markup {
    let percent = (c.progress * 100.0).clamp(0.0, 100.0);
    html! {
        section.clock #clock {
            div.clockline {
                span { "Round " b #round { (c.round) } " of " (c.rounds) " · phase " b #phase { (c.phase) } }
                span {
                    @if c.phase == "closed" { "every round has closed" } @else {
                        (c.remaining) " " (c.unit) " to " (c.next)
                        @if let Some(s) = c.remaining_seconds { " (≈ " (seconds(s)) ")" }
                    }
                }
            }
            div.bar role="progressbar" aria-valuenow=(format!("{percent:.0}")) aria-valuemin="0" aria-valuemax="100" {
                div style=(format!("width:{percent:.1}%")) {}
            }
            div.clockline.small { span { (c.unit) " " (c.phase_start) } span { (c.unit) " " (c.ends_at) } }
        }
    }
}

/// Consensus scores per round: each round's best scores as dots, the best joined by a line.
pub fn score_chart(rounds: &[ChartRound]) -> Markup {
    let (w, h, left, bottom, top) = (640.0, 220.0, 44.0, 24.0, 10.0);
    let plot_h = h - bottom - top;
    let n = rounds.len().max(1) as f64;
    let x = |i: usize| left + (w - left - 10.0) * (i as f64 + 0.5) / n;
    let y = |ppm: u32| top + plot_h * (1.0 - f64::from(ppm) / 1_000_000.0);
    let best: Vec<String> = rounds
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.scores.first().map(|&s| format!("{:.1},{:.1}", x(i), y(s))))
        .collect();
    html! {
        svg.chart viewBox=(format!("0 0 {w} {h}")) role="img" aria-label="consensus scores per round" {
            @for tick in [0u32, 250_000, 500_000, 750_000, 1_000_000] {
                line.grid x1=(left) x2=(w - 10.0) y1=(y(tick)) y2=(y(tick)) {}
                text.axis x=(left - 6.0) y=(y(tick) + 4.0) text-anchor="end" { (tick / 10_000) "%" }
            }
            @if best.len() > 1 { polyline.best points=(best.join(" ")) {} }
            @for (i, r) in rounds.iter().enumerate() {
                text.axis x=(x(i)) y=(h - 6.0) text-anchor="middle" { "r" (r.round) }
                @for (rank, &s) in r.scores.iter().enumerate() {
                    circle.dot.(if rank == 0 { "top" } else { "rest" }) cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(s))) r="4" {
                        title { "round " (r.round) ", rank " (rank) ": " (pct(Some(s))) }
                    }
                }
            }
        }
    }
}

pub fn task(v: &TaskView) -> Markup {
    let r = &v.round;
    layout(
        &format!("Task {}", v.id),
        Some(&v.chain),
        Some(v.queries),
        html! {
            h1 { "Task #" (v.id) " · " (v.metric) }
            p.muted { (v.metric_description) " · created by " (address_link(&v.creator)) }
            (clock(&v.clock))
            div.cards {
                div.card { span { "Pool left" } b { (tokens(v.accounts.pool)) } }
                div.card { span { "Staked" } b { (tokens(v.accounts.staked)) } }
                div.card { span { "Rewards paid" } b { (tokens(v.accounts.rewarded)) } }
                div.card { span { "Slashed" } b { (tokens(v.accounts.slashed)) } }
            }
            h2 { "Consensus scores per round" }
            @if v.chart.iter().all(|c| c.scores.is_empty()) { p.muted { "No round is ranked yet." } } @else { (score_chart(&v.chart)) }
            h2 { "Round " (r.round) }
            nav.rounds { @for tab in &v.rounds {
                a.(if tab.round == r.round { "current" } else { "" }) href=(format!("/task/{}?round={}", v.id, tab.round)) {
                    "round " (tab.round) " · " (tab.phase) @if tab.finalized { " ✓" }
                }
            } }
            p {
                "Phase " b { (r.phase) } " · " (r.submissions) " submissions, " (r.assigned) " assigned, " (r.scored) " scored"
                " · evaluation key " @if r.evaluation_key_revealed { "revealed" } @else { "sealed" }
                @if r.finalized { " · emission " (tokens(r.emission)) ", paid " (tokens(r.paid)) }
                @if r.void { " · " b { "void" } " (key not revealed in time; bond forfeit " (tokens(r.bond_forfeit)) ")" }
            }
            @if v.leaderboard.is_empty() { p.muted { "No submission in this round yet." } } @else {
                div.scroll { table #leaderboard {
                    thead { tr { th { "sub" } th { "trainer" } th { "model" } th.num { "consensus" } th.num { "baseline" } th.num { "rank" } th.num { "reward" } th { "status" } } }
                    tbody { @for s in &v.leaderboard {
                        tr data-submission=(s.id) {
                            td { a href=(format!("/task/{}/submission/{}", v.id, s.id)) { (s.id) } }
                            td { (address_link(&s.trainer)) }
                            td { (s.model.as_deref().unwrap_or("sealed")) }
                            td.num.consensus { (pct(s.consensus)) }
                            td.num { (pct(s.baseline)) }
                            td.num { (s.rank.map(|x| (x + 1).to_string()).unwrap_or_else(|| "-".into())) }
                            td.num { (tokens(s.reward)) }
                            td.status { (s.status) }
                        }
                    } }
                } }
                p.muted.small #leaderboard-order {
                    @if v.ranked {
                        "In rank order, best first (ranks count from 1), then the unranked submissions (not revealed, duplicate, unscored, below the minimum score or the baseline) by id."
                    } @else if r.void {
                        "By submission id: the round is void, so nothing is ranked."
                    } @else {
                        "By submission id: ranks appear when the round is finalized."
                    }
                    " Each submission's page shows every validator's score beside the consensus."
                }
            }
            p.pager {
                @if v.after.is_some() || v.after_rank.is_some() { a href=(format!("/task/{}?round={}", v.id, r.round)) { "← first page" } " " }
                @if let Some(next) = v.next_after_rank { a href=(format!("/task/{}?round={}&after_rank={next}", v.id, r.round)) { "next " (LEADERBOARD_PAGE) " →" } }
                @if let Some(next) = v.next_after { a href=(format!("/task/{}?round={}&after={next}", v.id, r.round)) { "next " (LEADERBOARD_PAGE) " →" } }
            }
            h2 { "Validators in round " (r.round) }
            @if v.validators.is_empty() { p.muted { "No validator has joined." } } @else {
                div.scroll { table #validators {
                    thead { tr { th { "validator" } th.num { "stake" } th.num { "delegated" } th.num { "assigned" } th.num { "reveals" } th.num { "in consensus" } th.num { "mean deviation" } th.num { "slashed (round)" } th.num { "slashed (task)" } th.num { "reward (round)" } th.num { "claimable" } } }
                    tbody { @for x in &v.validators {
                        tr {
                            td { (address_link(&x.address)) }
                            td.num { (tokens(x.own)) }
                            td.num { (tokens(x.delegated)) }
                            td.num { (x.assigned) }
                            td.num { (x.reveals) }
                            td.num { (x.in_consensus) }
                            td.num { (pct(x.mean_deviation)) }
                            td.num { (tokens(x.slashed_in_round)) }
                            td.num { (tokens(x.slashed)) }
                            td.num { @if let Some(reward) = x.reward_in_round { (tokens(reward)) } @else { "—" } }
                            td.num { (tokens(x.claimable)) }
                        }
                    } }
                } }
                p.muted.small { "Reward (round): what the round's finalization paid the validator (its own and its delegators' share), from the finalization transactions; — until the round is finalized. Claimable: the account's balance from every task." }
            }
            h2 { "Parameters" }
            dl.params { @for (k, val) in &v.parameters { dt { (k) } dd { (val) } } }
        },
    )
}

pub fn submission(v: &SubmissionView) -> Markup {
    let s = &v.row;
    layout(
        &format!("Submission {}", s.id),
        Some(&v.chain),
        Some(v.queries),
        html! {
            h1 { "Submission " (s.id) " · task " a href=(format!("/task/{}?round={}", v.task_id, v.round)) { "#" (v.task_id) } ", round " (v.round) }
            dl.params {
                dt { "trainer" } dd { (address_link(&s.trainer)) }
                dt { "status" } dd #status-word { (s.status) }
                dt { "model" } dd { (s.model.as_deref().unwrap_or("sealed")) }
                @if let Some(uri) = &v.model_uri { dt { "model file" } dd.mono { (uri) } }
                @if let Some(sha) = &v.model_sha256 { dt { "model sha256" } dd.mono { (sha) } }
                dt { "commitment" } dd.mono { (v.commitment) }
                dt { "consensus (weighted median)" } dd #consensus { (pct(s.consensus)) }
                dt { "baseline" } dd { (pct(s.baseline)) }
                dt { "rank" } dd { (s.rank.map(|x| (x + 1).to_string()).unwrap_or_else(|| "-".into())) }
                dt { "reward" } dd { (tokens(s.reward)) }
                dt { "trainer's stake" } dd { (tokens(v.stake)) }
                dt { "revealed weight" } dd { (tokens(v.revealed_weight)) " of " (tokens(v.assigned_weight)) " assigned" }
            }
            h2 { "Every validator's score" }
            @if v.scores.is_empty() { p.muted { "No validator assigned yet." } } @else {
                div.scroll { table #scores {
                    thead { tr { th { "validator" } th.num { "weight" } th { "committed" } th.num { "score" } th.num { "consensus" } th.num { "deviation" } th.num { "baseline" } th { "standing" } th.num { "slashed" } } }
                    tbody { @for a in &v.scores {
                        tr {
                            td { (address_link(&a.validator)) }
                            td.num { (tokens(a.weight)) }
                            td { @if a.committed { "yes" } @else { "no" } }
                            td.num.score { (pct(a.score)) }
                            td.num { (pct(s.consensus)) }
                            td.num { (pct(a.deviation)) }
                            td.num { (pct(a.baseline)) }
                            td { (a.standing.as_deref().unwrap_or("-")) }
                            td.num { (tokens(a.slashed)) }
                        }
                    } }
                } }
            }
        },
    )
}

pub fn participant(v: &ParticipantView) -> Markup {
    layout(
        "Participant",
        Some(&v.chain),
        Some(v.queries),
        html! {
            h1 { "Participant" }
            p.mono.wrap { (v.address) }
            div.cards { div.card #claimable { span { "Claimable now (every task)" } b { (tokens(v.claimable)) } } }
            @if v.tasks.is_empty() { p.muted { "No stake or delegation in any task." } }
            @for t in &v.tasks {
                section.task {
                    h2 { "Task " a href=(format!("/task/{}", t.task_id)) { "#" (t.task_id) } @if let Some(role) = &t.role { " · " (role) } }
                    @if t.role.is_some() {
                        dl.params {
                            dt { "own stake" } dd { (tokens(t.own)) }
                            dt { "delegated to it" } dd { (tokens(t.delegated_to_it)) }
                            dt { "effective stake" } dd { (tokens(t.effective)) }
                            dt { "commission" } dd { (t.commission) }
                            dt { "unbonding" } dd { (tokens(t.unbonding)) @if !t.unbonding.is_zero() { " (released at " (t.unbonding_release) ")" } }
                            dt { "slashed" } dd { (tokens(t.slashed)) }
                        }
                    }
                    @if !t.delegations.is_empty() {
                        h3 { "Delegations" }
                        div.scroll { table {
                            thead { tr { th { "operator" } th.num { "amount" } th.num { "pending rewards" } th.num { "unbonding" } } }
                            tbody { @for d in &t.delegations { tr {
                                td { (address_link(&d.operator)) } td.num { (tokens(d.amount)) } td.num { (tokens(d.pending_rewards)) } td.num { (tokens(d.unbonding)) }
                            } } }
                        } }
                    }
                }
            }
            @if v.tasks_truncated { p.muted { "Only the first 100 tasks were searched." } }
            h2 { "Withdrawals to the EVM side" }
            @if let Some(w) = &v.withdrawals { (withdrawals(&v.address, w)) }
            @if let Some(e) = &v.withdrawals_error {
                p #withdrawals-error { "The node could not search its transactions, so the withdrawals cannot be listed here (" (e) "). Each one is under its EVM recipient's address, with its proof." }
            }
        },
    )
}

/// A participant's withdrawals: a page of the node's transaction index, each with its batch.
fn withdrawals(address: &str, w: &WithdrawalsView) -> Markup {
    html! {
        @if w.rows.is_empty() { p.muted #no-withdrawals { "No withdrawal found in the node's transaction index." } } @else {
            div.scroll { table #withdrawals {
                thead { tr { th { "transaction" } th.num { "height" } th.num { "amount" } th { "EVM recipient" } th.num { "withdrawal" } th { "batch" } th { "status" } } }
                tbody { @for row in &w.rows { tr data-withdrawal=(row.withdrawal_id.map(|id| id.to_string()).unwrap_or_default()) {
                    td.mono title=(row.tx_hash) { (short(&row.tx_hash)) }
                    td.num { (row.height) }
                    td.num { (tokens(row.amount)) }
                    td { (address_link(&row.evm_recipient)) }
                    td.num { (row.withdrawal_id.map(|id| id.to_string()).unwrap_or_else(|| "-".into())) }
                    td.batch { @match &row.claim {
                        Some(c) => { a href=(format!("/batch/{}", c.batch_id)) { (c.batch_id) } ", leaf " (c.index) }
                        None => "-",
                    } }
                    td.batch-status { (row.status) }
                } } }
            } }
            @for row in &w.rows { @if let Some(c) = &row.claim { (claim_block(c)) } }
        }
        p.muted.small #withdrawals-bound {
            "The " (WITHDRAWALS_PAGE) " newest withdrawals a page, of " (w.total) " transaction" @if w.total != 1 { "s" } " found by the node's transaction index (as far back as the node keeps it); page " (w.page) " of " (w.pages) "."
        }
        p.pager {
            @if w.page > 1 { a href=(format!("/address/{address}?withdrawals_page={}", w.page - 1)) { "← newer" } " " }
            @if w.page < w.pages { a href=(format!("/address/{address}?withdrawals_page={}", w.page + 1)) { "older →" } }
        }
    }
}

/// A sealed leaf: its batch and status, the proof against the root, the claim command.
fn claim_block(c: &ClaimRow) -> Markup {
    html! {
        section.claim data-batch=(c.batch_id) {
            h3 { "Batch " a href=(format!("/batch/{}", c.batch_id)) { (c.batch_id) } ", leaf " (c.index) " · " (tokens(c.amount)) " to " (address_link(&c.evm_recipient)) }
            p { "Status: " b.batch-status { (c.batch_status) } " · proof " @if c.proof_verified { "checks against the root" } @else { b { "does not check" } } }
            dl.params {
                dt { "root" } dd.mono { (c.root) }
                dt { "proof" } dd.mono.proof { @for (i, p) in c.proof.iter().enumerate() { @if i > 0 { br; } (p) } }
            }
            div.copy { code.claim-command { (c.claim_command) } button type="button" data-copy=(c.claim_command) { "copy" } }
        }
    }
}

pub fn recipient(v: &RecipientView) -> Markup {
    layout(
        "Withdrawals",
        Some(&v.chain),
        Some(v.queries),
        html! {
            h1 { "EVM recipient" }
            p.mono.wrap { (v.address) }
            @match v.searched {
                Some((from, to)) => p.muted { "Batches " (from) " to " (to) " searched." },
                None => p.muted { "No batch sealed yet." },
            }
            @if v.claims.is_empty() { p #no-claims { "No withdrawal to this address in the batches searched." } }
            @for c in &v.claims { (claim_block(c)) }
        },
    )
}

fn relayer_rows(relayers: &[RelayerState]) -> Markup {
    html! {
        @if relayers.is_empty() { p.muted { "No relayer endpoint configured (start the explorer with --relayer http://HOST:PORT)." } } @else {
            div.scroll { table #relayers {
                thead { tr { th { "relayer" } th { "state" } th { "attester" } th.num { "cosmos height" } th.num { "EVM height" } th.num { "sealed" } th.num { "attested" } th.num { "posted" } th.num { "confirmed" } } }
                tbody { @for r in relayers { tr {
                    td.mono { (r.endpoint) }
                    @match &r.status {
                        Ok(s) => {
                            td { span.ok { "● up" } }
                            td { (short(&s.attester)) }
                            td.num { (s.cosmos_height) } td.num { (s.evm_height) }
                            td.num { (s.pending) } td.num { (s.attested) } td.num { (s.posted) } td.num { (s.confirmed) }
                        }
                        Err(e) => { td colspan="8" { span.down { "● unreachable" } " " (e) } }
                    }
                } } }
            } }
        }
    }
}

pub fn settlement(v: &SettlementView) -> Markup {
    layout(
        "Settlement",
        Some(&v.chain),
        Some(v.queries),
        html! {
            h1 { "Settlement" }
            div.cards {
                div.card { span { "Batches" } b { (v.outbox.batches) } }
                div.card { span { "Sealed for the EVM side" } b { (tokens(v.outbox.sealed_amount)) } }
                div.card { span { "Queued" } b { (v.outbox.queued_count) " · " (tokens(v.outbox.queued_amount)) } }
                div.card { span { "Threshold" } b { (v.threshold) " of " (v.attesters) } }
            }
            p.muted { "EVM chain " (v.evm_chain_id) " · settlement contract " span.mono { (v.evm_settlement.as_deref().unwrap_or("not set")) } }
            h2 { "Batches" }
            @if v.batches.is_empty() { p.muted { "No batch sealed yet." } } @else {
                div.scroll { table #batches {
                    thead { tr { th { "batch" } th { "status" } th.num { "leaves" } th.num { "total" } th.num { "sealed at" } th { "EVM transaction" } } }
                    tbody { @for b in &v.batches { tr {
                        td { a href=(format!("/batch/{}", b.batch_id)) { (b.batch_id) } }
                        td.batch-status { (b.status) }
                        td.num { (b.count) } td.num { (tokens(b.total)) } td.num { (b.sealed_height) }
                        td.mono { (b.evm_tx_hash.as_deref().unwrap_or("-")) }
                    } } }
                } }
            }
            @if let Some(before) = v.next_before { p { a href=(format!("/settlement?before={before}")) { "older batches →" } } }
            h2 { "Relayers" }
            (relayer_rows(&v.relayers))
        },
    )
}

pub fn batch(v: &BatchView) -> Markup {
    let b = &v.batch;
    layout(
        &format!("Batch {}", b.batch_id),
        Some(&v.chain),
        Some(v.queries),
        html! {
            h1 { "Batch " (b.batch_id) }
            dl.params {
                dt { "status" } dd.batch-status { (b.status) }
                dt { "leaves" } dd { (b.count) } dt { "total" } dd { (tokens(b.total)) }
                dt { "root" } dd.mono { (b.root) }
                @if let Some(d) = &v.digest { dt { "EIP-712 digest" } dd.mono { (d) } }
                dt { "sealed at height" } dd { (b.sealed_height) }
                dt { "EVM transaction" } dd.mono { (b.evm_tx_hash.as_deref().unwrap_or("-")) }
            }
            h2 { "Attestations (" (b.attestations) " of " (b.threshold) " count)" }
            ul { @for (signer, height) in &v.attestations { li { span.mono { (signer) } " at height " (height) } } }
            @if !v.confirmations.is_empty() {
                h2 { "Confirmation votes" }
                ul { @for (op, tx) in &v.confirmations { li { (address_link(op)) " · " span.mono { (tx) } } } }
            }
            h2 { "Leaves" }
            div.scroll { table #leaves {
                thead { tr { th.num { "index" } th { "recipient" } th.num { "amount" } th.num { "withdrawal" } } }
                tbody { @for l in &v.leaves { tr {
                    td.num { (l.index) } td { a.mono href=(format!("/address/{}", l.evm_recipient)) { (l.evm_recipient) } } td.num { (tokens(l.amount)) } td.num { (l.withdrawal_id) }
                } } }
            } }
            @if let Some(after) = v.next_after { p { a href=(format!("/batch/{}?after={after}", b.batch_id)) { "more leaves →" } } }
        },
    )
}

/// Where a search could go, when it is not one place.
pub fn search_results(query: &str, links: &[(String, String)], chain: Option<&ChainView>) -> Markup {
    layout(
        "Search",
        chain,
        None,
        html! {
            h1 { "Search: " (query) }
            @if links.is_empty() { p { "Nothing matches. Search an address (" code { "inj1…" } " or " code { "0x…" } "), a task id (" code { "7" } " or " code { "task 7" } "), a batch (" code { "batch 3" } ") or a submission (" code { "7/42" } ": task 7, submission 42)." } }
            ul { @for (href, label) in links { li { a href=(href) { (label) } } } }
        },
    )
}
