//! The real servers of the live suites (tests/live_*.rs, built with the `live-servers` feature):
//! Postfix and aiosmtpd on loopback, started by scripts/servers/start-all.sh with the
//! environment scripts/test exports (ZSMTP_MAILDIR, ZSMTP_CA, ZSMTP_AIOSMTPD_OUT). Postfix
//! delivers example.test into one Maildir per user under $ZSMTP_MAILDIR.

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a delivered mail may take to show up in its Maildir.
pub const DELIVERY_WAIT: Duration = Duration::from_secs(30);

/// An environment variable the servers' setup exports (panics with how to set it when absent).
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: start the servers with scripts/servers/start-all.sh and the environment scripts/test exports"))
}

/// The Maildir of `user`@example.test (mail lands in its `new/`).
pub fn maildir(user: &str) -> PathBuf {
    PathBuf::from(env("ZSMTP_MAILDIR")).join("example.test").join(user)
}

/// Postfix's log (beside the Maildir base).
pub fn maillog() -> PathBuf {
    PathBuf::from(env("ZSMTP_MAILDIR")).parent().expect("the Maildir base has a parent").join("maillog")
}

/// A token no earlier run used, to find this run's mails.
pub fn token(name: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{name}-{}-{nanos}", std::process::id())
}

/// The messages in the Maildir of `user` that contain `token` (none yet: empty).
pub fn with_token(user: &str, token: &str) -> Vec<Vec<u8>> {
    let dir = maildir(user);
    ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(dir.join(sub)).ok())
        .flat_map(|entries| entries.filter_map(|e| std::fs::read(e.ok()?.path()).ok()))
        .filter(|m| m.windows(token.len()).any(|w| w == token.as_bytes()))
        .collect()
}

/// Waits (bounded) until exactly `count` delivered messages for `user` contain `token`;
/// returns them.
pub fn delivered(user: &str, token: &str, count: usize) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + DELIVERY_WAIT;
    loop {
        let found = with_token(user, token);
        if found.len() >= count || Instant::now() > deadline {
            assert_eq!(found.len(), count, "messages with {token} for {user}");
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits (bounded) for the one delivered message for `user` that contains `token`.
pub fn delivered_one(user: &str, token: &str) -> String {
    String::from_utf8_lossy(&delivered(user, token, 1)[0]).into_owned()
}
