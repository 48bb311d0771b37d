//! The C API's small profile (feature `small`) delivering through the real Postfix that
//! scripts/test starts (127.0.0.1:2525; mail for bob@example.test lands under
//! $ZSMTP_MAILDIR): AUTH PLAIN and LOGIN, the body intact. Built only with the features
//! `small` and `live-servers`; scripts/test runs it with the short timeouts of the small build.
#![cfg(feature = "small")]

mod support;

use std::ffi::CString;
use std::mem::MaybeUninit;
use support::live::{delivered_one, token};
use zsmtp::capi::{
    nx_smtp_client_delete, nx_smtp_client_last_reply_get, nx_smtp_mail_send, nxd_smtp_client_create, NxSmtpClient, NxdAddress,
    NX_IP_VERSION_V4, NX_SMTP_CLIENT_AUTH_LOGIN, NX_SMTP_CLIENT_AUTH_PLAIN,
};
use zsmtp::error::status::*;

fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

#[test]
fn postfix_delivers_with_plain_and_login() {
    for (auth, name) in [(NX_SMTP_CLIENT_AUTH_PLAIN, "plain"), (NX_SMTP_CLIENT_AUTH_LOGIN, "login")] {
        let token = token(&format!("small-{name}"));
        let mut client: Box<MaybeUninit<NxSmtpClient>> = Box::new(MaybeUninit::zeroed());
        let c = client.as_mut_ptr();
        let (user, pass, from, domain) = (cs("alice"), cs("secret123"), cs("<alice@example.test>"), cs("device.example.test"));
        let mut server = NxdAddress { nxd_ip_version: NX_IP_VERSION_V4, nxd_ip_address: [0x7F00_0001, 0, 0, 0] };
        let mut dummy = 0u64;
        let d = (&mut dummy as *mut u64).cast();
        let (to, subject) = (cs("<bob@example.test>"), cs(&token));
        let body = format!("Small profile, {name}.\n.a line that starts with a dot\n");
        let mut code = 0;
        // SAFETY: every pointer is valid for the calls; the strings are NUL-terminated; the
        // client is created before it is used and deleted once.
        let (created, sent) = unsafe {
            let created = nxd_smtp_client_create(c, d, d, user.as_ptr().cast_mut(), pass.as_ptr().cast_mut(), from.as_ptr().cast_mut(), domain.as_ptr().cast_mut(), auth, &mut server, 2525);
            let sent = nx_smtp_mail_send(c, to.as_ptr().cast_mut(), 2, subject.as_ptr().cast_mut(), body.as_ptr().cast::<i8>().cast_mut(), body.len() as u32);
            nx_smtp_client_last_reply_get(c, &mut code, std::ptr::null_mut(), 0);
            nx_smtp_client_delete(c);
            (created, sent)
        };
        assert_eq!(created, NX_SUCCESS, "{name}");
        assert_eq!(sent, NX_SUCCESS, "{name}");
        assert_eq!(code, 250, "{name}");
        let found = delivered_one("bob", &token);
        assert!(found.contains("\n.a line that starts with a dot\n"), "{found}");
        assert!(found.contains("with ESMTPA"), "authenticated: {found}");
    }
}
