//! A task's clock: rounds follow each other back to back, each made of a submission, a commit and
//! a reveal phase, counted in blocks or in seconds from the task's creation.

use cosmwasm_schema::cw_serde;

/// What a task's phase lengths count.
#[cw_serde]
#[derive(Copy, Eq)]
pub enum Clock {
    /// Block heights.
    Height,
    /// Seconds of block time.
    Time,
}

/// Where a round stands.
#[cw_serde]
#[derive(Copy, Eq)]
pub enum Phase {
    /// Training nodes submit models.
    Submission,
    /// Assigned validators commit to their scores (assignment is cranked at its start).
    Commit,
    /// Assigned validators reveal score and salt.
    Reveal,
    /// The round's reveal phase is over: it can be finalized.
    Closed,
}

/// The schedule of one task, fixed at creation.
#[cw_serde]
#[derive(Copy, Eq)]
pub struct Schedule {
    pub clock: Clock,
    /// Height or time (seconds) at which round 1's submission phase opens.
    pub start: u64,
    pub submission: u64,
    pub commit: u64,
    pub reveal: u64,
    pub rounds: u32,
}

/// The round and phase at some instant. `round` is 1-based; after the last round's reveal phase
/// it stays the last round with phase `Closed`.
#[cw_serde]
#[derive(Copy, Eq)]
pub struct RoundPhase {
    pub round: u32,
    pub phase: Phase,
    /// The height or time at which this phase ends (for `Closed`, when the round closed).
    pub ends_at: u64,
}

impl Schedule {
    /// Length of one round.
    pub fn round_length(&self) -> u64 {
        self.submission + self.commit + self.reveal
    }

    /// The height or time at which `round` (1-based) opens.
    pub fn round_start(&self, round: u32) -> u64 {
        self.start + u64::from(round.saturating_sub(1)) * self.round_length()
    }

    /// The height or time at which `round`'s reveal phase ends.
    pub fn round_end(&self, round: u32) -> u64 {
        self.round_start(round) + self.round_length()
    }

    /// The round and phase at `now` (a height or a time in seconds, per `clock`). Before the
    /// start (impossible for a task created now) it reports round 1's submission phase.
    pub fn at(&self, now: u64) -> RoundPhase {
        let len = self.round_length();
        let elapsed = now.saturating_sub(self.start);
        let index = elapsed / len;
        if index >= u64::from(self.rounds) {
            return RoundPhase { round: self.rounds, phase: Phase::Closed, ends_at: self.round_end(self.rounds) };
        }
        // index < rounds <= u32::MAX.
        let round = index as u32 + 1;
        let start = self.round_start(round);
        let into = now.saturating_sub(start);
        let (phase, ends_at) = if into < self.submission {
            (Phase::Submission, start + self.submission)
        } else if into < self.submission + self.commit {
            (Phase::Commit, start + self.submission + self.commit)
        } else {
            (Phase::Reveal, start + len)
        };
        RoundPhase { round, phase, ends_at }
    }

    /// The phase of a given `round` at `now`: earlier rounds are `Closed`; a later round reports
    /// `Submission` only once it has opened, so callers compare rounds first.
    pub fn phase_of(&self, round: u32, now: u64) -> Phase {
        let current = self.at(now);
        if round < current.round || (round == current.round && current.phase == Phase::Closed) {
            Phase::Closed
        } else if round == current.round {
            current.phase
        } else {
            // Not open yet; reported as its first phase, and callers check `round_start`.
            Phase::Submission
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> Schedule {
        Schedule { clock: Clock::Height, start: 100, submission: 10, commit: 5, reveal: 5, rounds: 3 }
    }

    #[test]
    fn phases_follow_each_other() {
        let s = schedule();
        let at = |n| {
            let p = s.at(n);
            (p.round, p.phase, p.ends_at)
        };
        assert_eq!(at(100), (1, Phase::Submission, 110));
        assert_eq!(at(109), (1, Phase::Submission, 110));
        assert_eq!(at(110), (1, Phase::Commit, 115));
        assert_eq!(at(115), (1, Phase::Reveal, 120));
        assert_eq!(at(120), (2, Phase::Submission, 130));
        assert_eq!(at(159), (3, Phase::Reveal, 160));
        assert_eq!(at(160), (3, Phase::Closed, 160));
        assert_eq!(at(10_000), (3, Phase::Closed, 160));
    }

    #[test]
    fn earlier_rounds_are_closed() {
        let s = schedule();
        assert_eq!(s.phase_of(1, 125), Phase::Closed);
        assert_eq!(s.phase_of(2, 125), Phase::Submission);
        assert_eq!(s.phase_of(3, 160), Phase::Closed);
        assert_eq!(s.round_end(2), 140);
    }
}
