//! The C API's small profile (feature `small`) delivering through the real Postfix that
//! scripts/test starts (127.0.0.1:2525; mail for bob@example.test lands under
//! $ZSMTP_MAILDIR): AUTH PLAIN and LOGIN, the body intact. Built with the feature
//! `live-servers`, and empty without `small`; scripts/test runs it with the short timeouts of the
//! small build.
#![cfg(feature = "small")]

mod support;

use support::capi::CClient;
use support::live::{delivered_one, token};
use zsmtp::capi::{NX_SMTP_CLIENT_AUTH_LOGIN, NX_SMTP_CLIENT_AUTH_PLAIN};
use zsmtp::error::status::*;

#[test]
fn postfix_delivers_with_plain_and_login() {
    for (auth, name) in [(NX_SMTP_CLIENT_AUTH_PLAIN, "plain"), (NX_SMTP_CLIENT_AUTH_LOGIN, "login")] {
        let token = token(&format!("small-{name}"));
        let mut c = CClient::created(2525, auth, "alice", "secret123", "<alice@example.test>", "device.example.test");
        let body = format!("Small profile, {name}.\n.a line that starts with a dot\n");
        assert_eq!(c.send("<bob@example.test>", &token, body.as_bytes()), NX_SUCCESS, "{name}");
        assert_eq!(c.last_code(), 250, "{name}");
        let found = delivered_one("bob", &token);
        assert!(found.contains("\n.a line that starts with a dot\n"), "{found}");
        assert!(found.contains("with ESMTPA"), "authenticated: {found}");
    }
}
