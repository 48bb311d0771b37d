//! The C API's OAuth 2.0 services (features `capi` and `oauth2`, full profile) against the
//! scripted server: a token set with nx_smtp_client_token_set and sent by nx_smtp_mail_send
//! (XOAUTH2 and OAUTHBEARER), the error challenge's JSON in the last reply text, the refresh
//! callback called before AUTH (and a failing one ending the send before AUTH), the argument
//! checks of token_set, a mechanism the server does not offer, and delete wiping the token.

#![cfg(all(feature = "capi", feature = "oauth2", not(feature = "small")))]

mod support;

use std::ffi::{c_char, c_uint, c_void};
use support::capi::CClient;
use support::*;
use zsmtp::capi::{NX_SMTP_CLIENT_AUTH_OAUTHBEARER, NX_SMTP_CLIENT_AUTH_XOAUTH2};
use zsmtp::error::status::*;
use zsmtp::limits::OAUTH2_TOKEN_MAX;

const USER: &str = "device-5@oauth.test";
const DOMAIN: &str = "device.oauth.test";
const TOKEN: &str = "ya29.c-api-token_0123456789~+/";
const JSON: &str = r#"{"status":"400","schemes":"Bearer","scope":"https://outlook.office.com/SMTP.Send"}"#;

fn ehlo(mechanisms: &str) -> String {
    format!("250-mx.oauth.test\r\n250-AUTH {mechanisms}\r\n250 8BITMIME\r\n")
}

/// The lockstep transaction after AUTH (the C API sends one recipient).
fn rest_of_mail() -> Vec<Step> {
    vec![
        Expect("MAIL FROM:<device-5@oauth.test>"),
        send("250 ok\r\n"),
        Expect("RCPT TO:<ops@oauth.test>"),
        send("250 ok\r\n"),
        Expect("DATA"),
        send("354 go\r\n"),
        ExpectData,
        send("250 queued\r\n"),
        Expect("QUIT"),
        send("221 bye\r\n"),
    ]
}

fn xoauth2_line(token: &str) -> String {
    format!("AUTH XOAUTH2 {}", b64(format!("user={USER}\x01auth=Bearer {token}\x01\x01").as_bytes()))
}

fn created(port: u16, auth: u32) -> CClient {
    // The password is not used with a token mechanism: empty.
    CClient::created(port, auth, USER, "", USER, DOMAIN)
}

fn line_of(seen: &Seen, prefix: &str) -> String {
    seen.lines().into_iter().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no line starting with {prefix:?}: {:?}", seen.lines()))
}

#[test]
fn a_token_set_in_the_client_is_sent() {
    let server = Server::start([vec![send("220 mx\r\n"), Expect("EHLO"), send(&ehlo("PLAIN XOAUTH2")), Expect("AUTH XOAUTH2 "), send("235 ok\r\n")], rest_of_mail()].concat());
    let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_XOAUTH2);
    // A token of the Kconfig maximum: the AUTH line is several times the transmit buffer.
    let token: String = TOKEN.chars().cycle().take(OAUTH2_TOKEN_MAX).collect();
    assert_eq!(c.token_set(token.as_bytes()), NX_SUCCESS);
    assert_eq!(c.send("ops@oauth.test", "token", b"body\r\n"), NX_SUCCESS);
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(line_of(&seen, "AUTH XOAUTH2 "), xoauth2_line(&token));
}

#[test]
fn oauthbearer_names_the_server_address() {
    let server = Server::start([vec![send("220 mx\r\n"), Expect("EHLO"), send(&ehlo("OAUTHBEARER")), Expect("AUTH OAUTHBEARER "), send("235 ok\r\n")], rest_of_mail()].concat());
    let port = server.port;
    let mut c = created(port, NX_SMTP_CLIENT_AUTH_OAUTHBEARER);
    assert_eq!(c.token_set(TOKEN.as_bytes()), NX_SUCCESS);
    assert_eq!(c.send("ops@oauth.test", "token", b"body\r\n"), NX_SUCCESS);
    let seen = server.finish();
    seen.assert_ok();
    let expected = b64(format!("n,a={USER},\x01host=127.0.0.1\x01port={port}\x01auth=Bearer {TOKEN}\x01\x01").as_bytes());
    assert_eq!(line_of(&seen, "AUTH OAUTHBEARER "), format!("AUTH OAUTHBEARER {expected}"));
}

#[test]
fn a_refused_token_shows_the_servers_json_in_the_last_reply() {
    let steps = vec![
        send("220 mx\r\n"),
        Expect("EHLO"),
        send(&ehlo("XOAUTH2")),
        Expect("AUTH XOAUTH2 "),
        Send(format!("334 {}\r\n", b64(JSON.as_bytes())).into_bytes()),
        Expect(""),
        send("535 5.7.3 Authentication unsuccessful\r\n"),
        Expect("QUIT"),
        send("221 bye\r\n"),
    ];
    let server = Server::start(steps);
    let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_XOAUTH2);
    assert_eq!(c.token_set(TOKEN.as_bytes()), NX_SUCCESS);
    assert_eq!(c.send("ops@oauth.test", "token", b"body\r\n"), NX_SMTP_AUTH_REPLY_ERROR);
    server.finish().assert_ok();
    let (code, text) = c.last_reply();
    assert_eq!(code, 535);
    assert_eq!(text, format!("5.7.3 Authentication unsuccessful {JSON}"));
}

#[test]
fn a_mechanism_the_server_does_not_offer_fails_before_any_credential() {
    let server = Server::start(vec![send("220 mx\r\n"), Expect("EHLO"), send(&ehlo("PLAIN LOGIN")), Expect("QUIT"), send("221 bye\r\n")]);
    let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_XOAUTH2);
    assert_eq!(c.token_set(TOKEN.as_bytes()), NX_SUCCESS);
    assert_eq!(c.send("ops@oauth.test", "token", b"body\r\n"), NX_SMTP_AUTHENTICATION_ERROR);
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(seen.commands(), [format!("EHLO {DOMAIN}"), "QUIT".to_string()]);
}

/// What the refresh callback of these tests sees and gives.
struct Refresh {
    calls: u32,
    seen: Vec<u8>,
    give: &'static [u8],
    status: c_uint,
}

unsafe extern "C" fn refresh(context: *mut c_void, token: *mut c_char, size: c_uint, length: *mut c_uint) -> c_uint {
    // SAFETY: the tests pass a live `Refresh` as context; `token` is valid for `size` bytes
    // and `*length` of them are the current token (the callback's contract).
    unsafe {
        let r = &mut *context.cast::<Refresh>();
        r.calls += 1;
        r.seen = std::slice::from_raw_parts(token.cast::<u8>(), *length as usize).to_vec();
        assert!(r.give.len() <= size as usize);
        std::ptr::copy_nonoverlapping(r.give.as_ptr(), token.cast::<u8>(), r.give.len());
        *length = r.give.len() as c_uint;
        r.status
    }
}

#[test]
fn the_refresh_callback_replaces_the_token_before_auth() {
    let script = || [vec![send("220 mx\r\n"), Expect("EHLO"), send(&ehlo("XOAUTH2")), Expect("AUTH XOAUTH2 "), send("235 ok\r\n")], rest_of_mail()].concat();
    let servers = Servers::start(vec![script(), script()]);
    let mut c = created(servers.port, NX_SMTP_CLIENT_AUTH_XOAUTH2);
    assert_eq!(c.token_set(b"old.token"), NX_SUCCESS);
    let mut state = Refresh { calls: 0, seen: Vec::new(), give: b"fresh.token", status: NX_SUCCESS };
    // SAFETY: `refresh` keeps the contract with `state`, which outlives the sends.
    assert_eq!(unsafe { c.token_refresh_set(Some(refresh), (&mut state as *mut Refresh).cast()) }, NX_SUCCESS);
    assert_eq!(c.send("ops@oauth.test", "one", b"1\r\n"), NX_SUCCESS);
    assert_eq!((state.calls, state.seen.as_slice()), (1, &b"old.token"[..]));
    assert_eq!(c.send("ops@oauth.test", "two", b"2\r\n"), NX_SUCCESS);
    assert_eq!((state.calls, state.seen.as_slice()), (2, &b"fresh.token"[..]), "the refreshed token stays in the client");
    for seen in servers.finish() {
        seen.assert_ok();
        assert_eq!(line_of(&seen, "AUTH XOAUTH2 "), xoauth2_line("fresh.token"));
    }
    // SAFETY: removing the callback.
    assert_eq!(unsafe { c.token_refresh_set(None, std::ptr::null_mut()) }, NX_SUCCESS);
}

#[test]
fn a_failing_refresh_ends_the_send_before_auth() {
    let server = Server::start(vec![send("220 mx\r\n"), Expect("EHLO"), send(&ehlo("XOAUTH2")), Expect("QUIT"), send("221 bye\r\n")]);
    let mut c = created(server.port, NX_SMTP_CLIENT_AUTH_XOAUTH2);
    let mut state = Refresh { calls: 0, seen: Vec::new(), give: b"", status: NX_SMTP_INTERNAL_ERROR };
    // SAFETY: `refresh` keeps the contract with `state`, which outlives the send.
    assert_eq!(unsafe { c.token_refresh_set(Some(refresh), (&mut state as *mut Refresh).cast()) }, NX_SUCCESS);
    assert_eq!(c.send("ops@oauth.test", "token", b"body\r\n"), NX_SMTP_INVALID_PARAM);
    assert_eq!(state.calls, 1);
    let seen = server.finish();
    seen.assert_ok();
    assert_eq!(seen.commands(), [format!("EHLO {DOMAIN}"), "QUIT".to_string()]);
}

#[test]
fn token_set_checks_its_arguments_and_changes_nothing_on_failure() {
    let mut none = CClient::default();
    assert_eq!(none.token_set(TOKEN.as_bytes()), NX_SMTP_CLIENT_NOT_INTIALIZED);
    // SAFETY: null pointers are the cases under test.
    assert_eq!(unsafe { zsmtp::capi::nx_smtp_client_token_set(std::ptr::null_mut(), std::ptr::null_mut(), 0) }, NX_PTR_ERROR);
    let mut c = created(25, NX_SMTP_CLIENT_AUTH_XOAUTH2);
    // SAFETY: a NULL token with a length is the case under test.
    assert_eq!(unsafe { zsmtp::capi::nx_smtp_client_token_set(c.ptr(), std::ptr::null_mut(), 3) }, NX_PTR_ERROR);
    assert_eq!(c.token_set(TOKEN.as_bytes()), NX_SUCCESS);
    let before = c.bytes();
    assert_eq!(c.token_set(&vec![b'a'; OAUTH2_TOKEN_MAX + 1]), NX_SIZE_ERROR);
    for bad in [&b"two words"[..], b"a\x01b", b"line\r\n", b"t\xc3\xa9"] {
        assert_eq!(c.token_set(bad), NX_SMTP_INVALID_PARAM, "{bad:?}");
    }
    assert_eq!(c.bytes(), before, "a refused token changes nothing");
    assert_eq!(c.token_set(&vec![b'a'; OAUTH2_TOKEN_MAX]), NX_SUCCESS);
    // A shorter token after a longer one: the old one's tail does not survive.
    assert_eq!(c.token_set(b"short"), NX_SUCCESS);
    assert!(!c.bytes().windows(64).any(|w| w == [b'a'; 64]));
    assert_eq!(c.token_set(b""), NX_SUCCESS, "length 0 removes the token");
}

#[test]
fn delete_wipes_the_token() {
    let token: String = TOKEN.chars().cycle().take(1000).collect();
    let mut c = created(25, NX_SMTP_CLIENT_AUTH_OAUTHBEARER);
    assert_eq!(c.token_set(token.as_bytes()), NX_SUCCESS);
    assert!(c.bytes().windows(token.len()).any(|w| w == token.as_bytes()), "stored in the client");
    // SAFETY: a created client, deleted once here (the drop's second delete is refused).
    assert_eq!(unsafe { zsmtp::capi::nx_smtp_client_delete(c.ptr()) }, NX_SUCCESS);
    let bytes = c.bytes();
    assert!(!bytes.windows(8).any(|w| w == &token.as_bytes()[..8]), "the token is wiped");
}
