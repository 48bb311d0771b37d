//! XOAUTH2 and OAUTHBEARER against aiosmtpd (live suite: features `live-servers` and `oauth2`).
//! Each test starts its own aiosmtpd (scripts/servers/aiosmtpd_server.py with
//! --oauth-token-file: it accepts one token and answers any other with the error challenge)
//! on a free loopback port, AUTH only after STARTTLS, with the certificates of
//! scripts/servers/gen-certs.sh, and stops it when done. Reads ZSMTP_TEST_DIR (or
//! SMTP_TEST_DIR), ZSMTP_CA and ZSMTP_VENV (default ~/.cache/zsmtp-venv).

#![cfg(feature = "oauth2")]
#![allow(clippy::result_large_err)] // Tests pass the public error around.

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use support::live::{env, token as unique};
use zsmtp::error::status::*;
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Auth, Client, Config, ErrorKind, Mail, Phase, Timeouts, TlsMode};

const USER: &str = "device-4@example.test";
const FROM: &str = "device-4@example.test";

/// A 4 KB token, as Microsoft's run: the AUTH line is far past 512 bytes.
fn good_token() -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut t = String::from("eyJ0eXAiOiJKV1QiLCJub25jZSI6.");
    t.extend((0..4096 - t.len()).map(|i| alphabet[(i * 11 + i / 7) % alphabet.len()] as char));
    t
}

/// aiosmtpd with the OAuth mechanisms, stopped (killed and reaped) on drop.
struct Aiosmtpd {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Aiosmtpd {
    fn start(token: &str) -> Aiosmtpd {
        let base = std::env::var("ZSMTP_TEST_DIR").or_else(|_| std::env::var("SMTP_TEST_DIR")).unwrap_or_else(|_| env("ZSMTP_TEST_DIR"));
        let certs = PathBuf::from(&base).join("certs");
        let dir = PathBuf::from(&base).join(unique("aiosmtpd-oauth"));
        std::fs::create_dir_all(dir.join("out")).unwrap();
        let token_file = dir.join("token");
        std::fs::write(&token_file, token).unwrap();
        let venv = std::env::var("ZSMTP_VENV").unwrap_or_else(|_| format!("{}/.cache/zsmtp-venv", env("HOME")));
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/servers/aiosmtpd_server.py");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(format!("{venv}/bin/python"))
            .arg(script)
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--tls-port", "0", "--auth-require-tls"])
            .arg("--cert")
            .arg(certs.join("cert.pem"))
            .arg("--key")
            .arg(certs.join("key.pem"))
            .arg("--out")
            .arg(dir.join("out"))
            .arg("--oauth-token-file")
            .arg(&token_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd_server.py (is the venv there? scripts/servers/install-deps.sh)");
        // Bounded wait for "READY <port> 0": a reader thread, so a silent server cannot hang us.
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut server = Aiosmtpd { child, port, dir };
        match rx.recv_timeout(Duration::from_secs(15)) {
            Ok(line) if line.starts_with("READY") => server,
            other => {
                server.stop();
                panic!("aiosmtpd did not start: {other:?}");
            }
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The session facts of the stored mails (OUT/*.json), in order.
    fn stored(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.join("out")).unwrap().filter_map(|e| Some(e.ok()?.path())).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
        names.sort();
        names.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }
}

impl Drop for Aiosmtpd {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn config(port: u16, mechanism: Auth, token: &(dyn zsmtp::TokenSource + Sync)) -> Config<'_> {
    Config::new("127.0.0.1", port, "device.example.test", FROM).tls(TlsMode::StartTls).oauth(mechanism, USER, token).timeouts(Timeouts { total_ms: 30_000, ..Timeouts::DEFAULT.every_reply(10_000) })
}

fn client(config: Config<'_>) -> Client<'_, StdTransport, StdClock> {
    Client::new(config, StdTransport::with_ca_file(env("ZSMTP_CA")).expect("ZSMTP_CA"), StdClock::new()).unwrap()
}

fn mail(subject: &str) -> Mail<'_> {
    Mail::new(subject, b"sent with a bearer token\n").to(&["bob@example.test"])
}

#[test]
fn xoauth2_and_oauthbearer_deliver_over_starttls() {
    let token = good_token();
    let server = Aiosmtpd::start(&token);
    let token_ref = token.as_str();
    for mechanism in [Auth::XOAuth2, Auth::OAuthBearer] {
        let sent = client(config(server.port, mechanism, &token_ref)).send(&mail("oauth")).unwrap();
        assert_eq!(sent.reply.code, 250, "{mechanism:?}: {}", sent.reply);
    }
    let stored = server.stored();
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(stored[0].contains(r#""auth_login": {"mechanism": "XOAUTH2", "user": "device-4@example.test"}"#), "{}", stored[0]);
    let bearer = format!(r#""auth_login": {{"mechanism": "OAUTHBEARER", "user": "device-4@example.test", "host": "127.0.0.1", "port": "{}"}}"#, server.port);
    assert!(stored[1].contains(&bearer), "{}", stored[1]);
    assert!(stored.iter().all(|s| s.contains(r#""tls": true"#)));
}

/// A refused token: aiosmtpd's error challenge, the client's acknowledgement (aiosmtpd checks
/// it: XOAUTH2 an empty line, OAUTHBEARER 0x01), its 535, reported with the decoded status.
#[test]
fn a_refused_token_reports_the_servers_status() {
    let server = Aiosmtpd::start(&good_token());
    for mechanism in [Auth::XOAuth2, Auth::OAuthBearer] {
        let e = client(config(server.port, mechanism, &"ya29.expired-token")).send(&mail("refused")).expect_err("refused");
        assert_eq!((e.kind, e.phase, e.status()), (ErrorKind::Rejected, Phase::Auth, NX_SMTP_AUTH_REPLY_ERROR), "{mechanism:?}: {e}");
        let reply = e.reply.clone().unwrap();
        assert_eq!(reply.code, 535, "{e}");
        assert_eq!(
            reply.text(),
            r#"5.7.8 Username and Password not accepted {"status":"401","schemes":"Bearer","scope":"https://mail.example.test/"}"#
        );
        assert!(!format!("{e} {e:?}").contains("expired-token"));
    }
    assert!(server.stored().is_empty());
}

/// The same client, its token replaced after a refusal: the next send uses the new one.
#[test]
fn a_replaced_token_is_used_by_the_next_send() {
    let good = good_token();
    let server = Aiosmtpd::start(&good);
    let token = Mutex::new(String::from("ya29.expired-token"));
    let mut client = client(config(server.port, Auth::XOAuth2, &token));
    let started = Instant::now();
    assert_eq!(client.send(&mail("first")).unwrap_err().reply.map(|r| r.code), Some(535));
    *token.lock().unwrap() = good;
    assert_eq!(client.send(&mail("second")).unwrap().reply.code, 250);
    assert_eq!(server.stored().len(), 1);
    assert!(started.elapsed() < Duration::from_secs(20));
}
