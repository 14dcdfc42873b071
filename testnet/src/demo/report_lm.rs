//! The language-model task's part of the demo's report: its cached base, the leaderboard in bits
//! per byte, and a few greedy samples from the base and from each trainer's adapter; as console
//! text and as HTML (every sample escaped: models write markup as readily as prose).

use serde::Serialize;

use super::report::{html_escape, table, tokens, RoundReport};

#[derive(Clone, Debug, Serialize)]
pub struct LmReport {
    pub task_id: u64,
    pub base: BaseReport,
    pub max_lora_rank: u32,
    /// Each round, as the digits task's are reported (`consensus` and `baseline` are score_ppm).
    pub rounds: Vec<RoundReport>,
    /// One entry per submission, round by round, best first.
    pub leaderboard: Vec<LmEntry>,
    /// Greedy continuations of the first evaluation conversations' prompts by every model.
    pub samples: Vec<PromptSamples>,
}

/// The task's base.
#[derive(Clone, Debug, Serialize)]
pub struct BaseReport {
    pub architecture: String,
    pub parameters: usize,
    /// sha256 of its model.safetensors, what the task commits to.
    pub sha256: String,
    /// Its folder in the cache.
    pub cache_dir: String,
    /// Whether an earlier run had pretrained it (false: this run did).
    pub reused: bool,
    pub corpus: String,
    pub pretrain_steps: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct LmEntry {
    pub round: u32,
    pub trainer: String,
    pub lora_rank: usize,
    pub learning_rate: f32,
    /// The consensus score, round(1e6 · 2^-bits_per_byte).
    pub score_ppm: Option<u32>,
    /// −log2(score_ppm / 1e6) of the assistant's text of the round's shard; none for no score or
    /// a score of 0 (a refused adapter).
    pub bits_per_byte: Option<f64>,
    /// The base's own, the baseline to beat.
    pub baseline_bits_per_byte: Option<f64>,
    pub status: String,
    pub reward: u128,
}

/// One evaluation conversation's prompt and what each model continues it with.
#[derive(Clone, Debug, Serialize)]
pub struct PromptSamples {
    /// The conversation up to the assistant's turn, as the models read it (template markers
    /// included).
    pub prompt: String,
    /// The evaluation data's own answer.
    pub reference: String,
    pub samples: Vec<Sample>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    /// `base`, or the trainer whose adapter is merged into it.
    pub model: String,
    pub text: String,
}

/// Bits per byte of a score in ppm (the inverse of `score_ppm = round(1e6 · 2^-bpb)`); none for
/// no score or 0.
pub fn bits_per_byte(score_ppm: Option<u32>) -> Option<f64> {
    score_ppm.filter(|&s| s > 0).map(|s| -(s as f64 / 1e6).log2())
}

fn bpb(bits: Option<f64>) -> String {
    bits.map_or("-".into(), |b| format!("{b:.3}"))
}

/// A sample on one console line: newlines and other control characters escaped.
fn one_line(text: &str) -> String {
    text.escape_debug().to_string()
}

impl LmReport {
    fn base_line(&self) -> String {
        let b = &self.base;
        let made = if b.reused { "reused from the cache" } else { "pretrained by this run" };
        format!(
            "base {} ({} parameters, {} steps on {}), {made}: {} (sha256 {}); LoRA rank at most {}",
            b.architecture, b.parameters, b.pretrain_steps, b.corpus, b.cache_dir, b.sha256, self.max_lora_rank
        )
    }

    fn leaderboard_rows(&self) -> impl Iterator<Item = Vec<String>> + '_ {
        self.leaderboard.iter().map(|e| {
            vec![
                e.round.to_string(),
                e.trainer.clone(),
                e.lora_rank.to_string(),
                e.learning_rate.to_string(),
                e.score_ppm.map_or("-".into(), |s| s.to_string()),
                bpb(e.bits_per_byte),
                bpb(e.baseline_bits_per_byte),
                tokens(e.reward),
                e.status.clone(),
            ]
        })
    }

    /// Why an entry over the task's rank limit scored 0: the validators refuse such adapters.
    fn refusals(&self) -> impl Iterator<Item = String> + '_ {
        self.leaderboard.iter().filter(|e| e.lora_rank > self.max_lora_rank as usize).map(|e| {
            format!(
                "round {}: {}'s rank-{} adapter is over the task's limit of {}: its validators scored it 0 (the \
                 reason is in their `gpu-worker status`)",
                e.round, e.trainer, e.lora_rank, self.max_lora_rank
            )
        })
    }

    const LEADERBOARD: [&'static str; 9] =
        ["round", "trainer", "LoRA r", "lr", "score ppm", "bits/byte", "base bits/byte", "reward", "status"];

    /// The console's section.
    pub fn to_text(&self) -> String {
        let mut out = format!("\nLanguage-model task {}: {}\n", self.task_id, self.base_line());
        for r in &self.rounds {
            out += &format!("  round {}: emission {} ARENA, paid {}\n", r.round, tokens(r.emission), tokens(r.paid));
        }
        out += &format!(
            "  {:<5} {:<14} {:>6} {:>6} {:>9} {:>9} {:>14} {:>14}  {}\n",
            "round", "trainer", "LoRA r", "lr", "score ppm", "bits/byte", "base bits/byte", "reward", "status"
        );
        for row in self.leaderboard_rows() {
            out += &format!(
                "  {:<5} {:<14} {:>6} {:>6} {:>9} {:>9} {:>14} {:>14}  {}\n",
                row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8]
            );
        }
        for line in self.refusals() {
            out += &format!("  {line}\n");
        }
        out += "Samples (greedy, on the CPU reference)\n";
        for p in &self.samples {
            out += &format!("  prompt: {}\n  reference: {}\n", one_line(&p.prompt), one_line(&p.reference));
            for s in &p.samples {
                out += &format!("    {:<14} {}\n", s.model, one_line(&s.text));
            }
        }
        out
    }

    /// The page's section: the leaderboard, then one table of samples per prompt.
    pub fn to_html(&self) -> String {
        let mut body =
            format!("<h2>Language-model task {}</h2><p>{}.</p>", self.task_id, html_escape(&self.base_line()));
        for r in &self.rounds {
            body +=
                &format!("<p>Round {}: emission {} ARENA, paid {}.</p>", r.round, tokens(r.emission), tokens(r.paid));
        }
        body += &table(&Self::LEADERBOARD, self.leaderboard_rows());
        for line in self.refusals() {
            body += &format!("<p>{}</p>", html_escape(&line));
        }
        body += "<h3>Samples</h3><p>Greedy continuations on the CPU reference: the base alone, and the base with \
                 each trainer's adapter merged in.</p>";
        for (i, p) in self.samples.iter().enumerate() {
            body += &format!(
                "<h4>Prompt {}</h4><p class=\"sample\">{}</p><p>Reference answer: <span class=\"sample\">{}</span></p>",
                i + 1,
                html_escape(&p.prompt),
                html_escape(&p.reference)
            );
            let rows = p.samples.iter().map(|s| vec![s.model.clone(), s.text.clone()]);
            body += &format!("<div class=\"samples\">{}</div>", table(&["model", "continuation"], rows));
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> LmReport {
        LmReport {
            task_id: 2,
            base: BaseReport {
                architecture: "gpt:layers=2,d=32,heads=2,ctx=64".into(),
                parameters: 35_712,
                sha256: "ab".into(),
                cache_dir: "/cache/demo-base/12".into(),
                reused: true,
                corpus: "data/shakespeare.txt".into(),
                pretrain_steps: 600,
            },
            max_lora_rank: 4,
            rounds: Vec::new(),
            leaderboard: vec![LmEntry {
                round: 1,
                trainer: "lm-trainer-r2".into(),
                lora_rank: 2,
                learning_rate: 0.02,
                score_ppm: Some(250_000),
                bits_per_byte: bits_per_byte(Some(250_000)),
                baseline_bits_per_byte: bits_per_byte(Some(125_000)),
                status: "Scored".into(),
                reward: 1_500_000,
            }],
            samples: vec![PromptSamples {
                prompt: "<|user|>Who speaks?<|end|>\n<|assistant|>".into(),
                reference: "Nurse".into(),
                samples: vec![Sample { model: "base".into(), text: "<script>\"x\"".into() }],
            }],
        }
    }

    #[test]
    fn bits_per_byte_inverts_the_score() {
        assert_eq!(bits_per_byte(Some(250_000)), Some(2.0));
        assert_eq!(bits_per_byte(Some(1_000_000)), Some(0.0));
        assert_eq!((bits_per_byte(Some(0)), bits_per_byte(None)), (None, None));
    }

    #[test]
    fn the_html_section_escapes_prompts_and_samples() {
        let html = report().to_html();
        assert!(html.contains(
            "<td>1</td><td>lm-trainer-r2</td><td>2</td><td>0.02</td><td>250000</td><td>2.000</td><td>3.000</td>"
        ));
        assert!(html.contains("&lt;|user|&gt;Who speaks?") && html.contains("<td>&lt;script&gt;&quot;x&quot;</td>"));
        assert!(!html.contains("<script>") && !html.contains("<|"), "samples must not become markup");
        assert_eq!(html.matches("<table>").count(), 2, "the leaderboard and one prompt's samples");
    }

    #[test]
    fn the_text_section_keeps_each_sample_on_one_line() {
        let text = report().to_text();
        assert!(text.contains("reused from the cache: /cache/demo-base/12"), "{text}");
        assert!(text.contains("  prompt: <|user|>Who speaks?<|end|>\\n<|assistant|>\n"), "{text}");
        assert!(text.contains("    base           <script>\\\"x\\\"\n"), "{text}");
    }
}
