//! When a mail that could not be delivered is tried again, and what happens to a mail whose
//! outcome is unknown.

/// What to do with a mail whose outcome is unknown: the link died after its final dot and
/// before the server's reply (`NX_SMTP_OUTCOME_UNKNOWN`), so the server may have taken it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUnknown {
    /// Send it again, with the same Message-ID (at-least-once: the recipient may get it twice,
    /// and can tell the copies are one mail). The default.
    Resend,
    /// Keep it aside, listed as unknown, until the application resends it
    /// ([`Outbox::resend`](super::Outbox::resend)) or removes it (at-most-once).
    Park,
}

/// The retry policy: capped exponential backoff with jitter, and the unknown-outcome rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The wait after the first failed attempt, in milliseconds; it doubles after each further
    /// one.
    pub first_retry_ms: u32,
    /// The longest wait between two attempts, in milliseconds.
    pub max_retry_ms: u32,
    pub on_unknown: OnUnknown,
}

impl Policy {
    /// 30 s after the first failure, doubling up to one hour; unknown outcomes are resent.
    pub const DEFAULT: Policy = Policy { first_retry_ms: 30_000, max_retry_ms: 3_600_000, on_unknown: OnUnknown::Resend };

    /// The wait before attempt `attempts + 1` of a mail that has failed `attempts` times
    /// (at least 1): `first_retry_ms * 2^(attempts-1)`, capped at `max_retry_ms`, of which the
    /// upper half is random (`entropy`), so devices that failed together do not retry together.
    pub fn backoff_ms(&self, attempts: u16, entropy: u32) -> u64 {
        let doublings = u32::from(attempts.saturating_sub(1)).min(32);
        let full = (u64::from(self.first_retry_ms) << doublings).min(u64::from(self.max_retry_ms)).max(1);
        let half = full / 2;
        full - half + u64::from(entropy) % (half + 1)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_its_half() {
        let p = Policy { first_retry_ms: 1000, max_retry_ms: 10_000, on_unknown: OnUnknown::Resend };
        for (attempts, full) in [(1u16, 1000u64), (2, 2000), (3, 4000), (4, 8000), (5, 10_000), (60, 10_000), (u16::MAX, 10_000)] {
            assert_eq!(p.backoff_ms(attempts, 0), full - full / 2);
            assert_eq!(p.backoff_ms(attempts, u32::MAX), full - full / 2 + u64::from(u32::MAX) % (full / 2 + 1));
            for e in [1, 77, 5000, 123_456] {
                let d = p.backoff_ms(attempts, e);
                assert!(d >= full / 2 && d <= full, "{attempts}: {d}");
            }
        }
        assert!(Policy { first_retry_ms: 0, max_retry_ms: 0, ..p }.backoff_ms(1, 9) >= 1);
    }
}
