//! The vendored instruction set, `data/shakespeare-instruct.jsonl` (ShareGPT JSONL, one
//! conversation a line), cut by line ranges into a language-model task's training and evaluation
//! files. The demo's language-model task and the real-chain test of one
//! (`gpu-worker/tests/lm_round.rs`) take theirs from here; [`crate::task::LmTaskSpec`] then seals
//! the evaluation file into one hidden shard per round.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::TestnetError;
use crate::repo;

/// The instruction set, relative to the repository root.
pub const INSTRUCT: &str = "data/shakespeare-instruct.jsonl";

/// A language-model task's chat files.
#[derive(Clone, Debug)]
pub struct ChatFiles {
    pub train: PathBuf,
    pub eval: PathBuf,
}

/// Writes lines `train` of the instruction set to `dir/train.jsonl` and lines `eval` to
/// `dir/eval.jsonl` (creating `dir`). The ranges must be non-empty, within the file, and apart: a
/// conversation trained on would be scored by heart.
pub fn split_instruct(dir: &Path, train: Range<usize>, eval: Range<usize>) -> Result<ChatFiles, TestnetError> {
    let path = repo::resolve(INSTRUCT);
    let text = std::fs::read_to_string(&path).map_err(TestnetError::io(format!("reading {}", path.display())))?;
    let lines: Vec<&str> = text.lines().collect();
    let overlap = train.start < eval.end && eval.start < train.end;
    if train.is_empty() || eval.is_empty() || overlap || train.end.max(eval.end) > lines.len() {
        let reason = format!(
            "lines {train:?} (training) and {eval:?} (evaluation) must be non-empty, apart and within its {} lines",
            lines.len()
        );
        return Err(TestnetError::Data { path, reason });
    }
    std::fs::create_dir_all(dir).map_err(TestnetError::io(format!("creating {}", dir.display())))?;
    let files = ChatFiles { train: dir.join("train.jsonl"), eval: dir.join("eval.jsonl") };
    for (file, range) in [(&files.train, train), (&files.eval, eval)] {
        let chosen: String = lines[range].iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(file, chosen).map_err(TestnetError::io(format!("writing {}", file.display())))?;
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_hold_exactly_the_chosen_lines_and_bad_ranges_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let files = split_instruct(dir.path(), 0..3, 10..12).unwrap();
        let all = std::fs::read_to_string(repo::resolve(INSTRUCT)).unwrap();
        let lines: Vec<&str> = all.lines().collect();
        assert_eq!(std::fs::read_to_string(&files.train).unwrap(), format!("{}\n", lines[0..3].join("\n")));
        assert_eq!(std::fs::read_to_string(&files.eval).unwrap(), format!("{}\n", lines[10..12].join("\n")));
        assert!(split_instruct(dir.path(), 0..5, 4..6).is_err(), "overlapping");
        assert!(split_instruct(dir.path(), 0..5, 5..5).is_err(), "empty");
        assert!(split_instruct(dir.path(), 0..5, lines.len()..lines.len() + 1).is_err(), "past the end");
    }
}
