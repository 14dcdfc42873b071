//! A task's clock: rounds follow each other back to back, each made of a submission, a
//! model-reveal, a commit and a reveal phase, counted in blocks or in seconds from the task's
//! creation.

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
    /// Training nodes submit sealed commitments to their models.
    Submission,
    /// Training nodes reveal the models they committed to (hash, URI, metadata, salt).
    ModelReveal,
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
    pub model_reveal: u64,
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
        self.submission + self.model_reveal + self.commit + self.reveal
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
        let commit_start = self.submission + self.model_reveal;
        let (phase, ends_at) = if into < self.submission {
            (Phase::Submission, start + self.submission)
        } else if into < commit_start {
            (Phase::ModelReveal, start + commit_start)
        } else if into < commit_start + self.commit {
            (Phase::Commit, start + commit_start + self.commit)
        } else {
            (Phase::Reveal, start + len)
        };
        RoundPhase { round, phase, ends_at }
    }

    /// When the stakes that count in `round` freeze: the end of round `round - 1`'s commit phase,
    /// or, for round 1, the end of its own submission phase. A stake change made at or after this
    /// instant counts from a later round ([`Schedule::counting_round`]).
    ///
    /// Why there: the entropy that seeds round `round`'s validator sampling is revealed after it
    /// (the score salts of round `round - 1`'s reveal phase, committed before it, and the
    /// creator's beacon, accepted only after it), so nobody can fit stakes to a known seed.
    pub fn stake_freeze(&self, round: u32) -> u64 {
        if round <= 1 {
            self.start + self.submission
        } else {
            self.commit_start(round - 1) + self.commit
        }
    }

    /// The first round whose stakes are not frozen at `now`: the round from which a stake,
    /// delegation, unbonding, commission or slashing made now counts. `rounds + 1` once the last
    /// round's stakes are frozen (the change then counts for no round of the task).
    pub fn counting_round(&self, now: u64) -> u32 {
        if now < self.stake_freeze(1) {
            return 1;
        }
        let len = self.round_length();
        let elapsed = now.saturating_sub(self.start);
        let index = elapsed / len;
        let into = elapsed % len;
        // Inside round `index + 1`: round `index + 2` freezes at the end of this commit phase.
        let next = if into < self.submission + self.model_reveal + self.commit { index + 2 } else { index + 3 };
        next.min(u64::from(self.rounds) + 1) as u32
    }

    /// The height or time at which `round`'s model-reveal phase opens (its submissions close).
    pub fn model_reveal_start(&self, round: u32) -> u64 {
        self.round_start(round) + self.submission
    }

    /// The height or time at which `round`'s commit phase opens (assignment can start, and the
    /// creator may reveal the round's evaluation key).
    pub fn commit_start(&self, round: u32) -> u64 {
        self.model_reveal_start(round) + self.model_reveal
    }

    /// Until when the first `Assign` of `round` waits for the creator's beacon: half-way through
    /// its commit phase. After it, sampling goes ahead without the beacon, so an absent creator
    /// costs validators half a commit phase, never the round.
    pub fn beacon_deadline(&self, round: u32) -> u64 {
        self.commit_start(round) + self.commit / 2
    }

    /// Until when the creator may reveal `round`'s evaluation key: the same instant as the
    /// beacon's deadline, half-way through the commit phase, so that one creator transaction time
    /// serves both and validators keep the second half of the phase to score. A key still missing
    /// then voids the round.
    pub fn key_deadline(&self, round: u32) -> u64 {
        self.beacon_deadline(round)
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
        Schedule { clock: Clock::Height, start: 100, submission: 8, model_reveal: 2, commit: 5, reveal: 5, rounds: 3 }
    }

    #[test]
    fn phases_follow_each_other() {
        let s = schedule();
        let at = |n| {
            let p = s.at(n);
            (p.round, p.phase, p.ends_at)
        };
        assert_eq!(at(100), (1, Phase::Submission, 108));
        assert_eq!(at(107), (1, Phase::Submission, 108));
        assert_eq!(at(108), (1, Phase::ModelReveal, 110));
        assert_eq!(at(109), (1, Phase::ModelReveal, 110));
        assert_eq!(at(110), (1, Phase::Commit, 115));
        assert_eq!(at(115), (1, Phase::Reveal, 120));
        assert_eq!(at(120), (2, Phase::Submission, 128));
        assert_eq!(at(159), (3, Phase::Reveal, 160));
        assert_eq!(at(160), (3, Phase::Closed, 160));
        assert_eq!(at(10_000), (3, Phase::Closed, 160));
    }

    #[test]
    fn stakes_count_from_the_first_round_not_yet_frozen() {
        // Rounds of 20 from 100: submission [100, 108), model reveal [108, 110), commit
        // [110, 115), reveal [115, 120).
        let s = schedule();
        assert_eq!(s.stake_freeze(1), 108);
        assert_eq!(s.stake_freeze(2), 115);
        assert_eq!(s.stake_freeze(3), 135);
        for now in [100, 107] {
            assert_eq!(s.counting_round(now), 1, "at {now}");
        }
        for now in [108, 110, 114] {
            assert_eq!(s.counting_round(now), 2, "at {now}");
        }
        // Round 1's reveal phase and round 2's submission and commit phases: round 3.
        for now in [115, 119, 120, 134] {
            assert_eq!(s.counting_round(now), 3, "at {now}");
        }
        // From round 2's reveal phase on, no round of the task is left to count in.
        assert_eq!(s.counting_round(135), 4);
        assert_eq!(s.counting_round(10_000), 4);
        // The rule agrees with the freezes everywhere: r counts at `now` iff now < freeze(r) and
        // every earlier round is frozen.
        for now in 100..200 {
            let r = s.counting_round(now);
            if r <= s.rounds {
                assert!(now < s.stake_freeze(r), "at {now}");
            }
            if r > 1 {
                assert!(now >= s.stake_freeze(r - 1), "at {now}");
            }
        }
    }

    #[test]
    fn the_beacon_waits_half_a_commit_phase() {
        let s = schedule();
        assert_eq!(s.model_reveal_start(2), 128);
        assert_eq!(s.commit_start(2), 130);
        assert_eq!(s.beacon_deadline(2), 132);
        assert_eq!(s.key_deadline(2), 132);
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
