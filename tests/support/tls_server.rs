//! A scripted SMTP server over TLS (rustls on the server side), for STARTTLS and implicit TLS:
//! what a real server cannot be made to do (hide STARTTLS, inject bytes after "220", close or
//! stall in the handshake, fail at an exact point of the encrypted dialogue). It records in a
//! [`Seen`] what it received in clear and what it decrypted. Every wait is bounded.
//!
//! A [`Plan`] says what happens in clear and at the handshake; after a completed handshake the
//! server either answers every command as a small mail server ([`Handshake::Serve`]) or plays
//! a script ([`Handshake::Script`]) of the plain server's [`Step`]s (`super::server`), inside
//! TLS: the fault table (`super::faults`) writes one script for both servers.

use super::io::{linger_zero, read_more, read_until};
use super::{Seen, Step};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The bound of every wait of the server.
pub const SERVER_WAIT: Duration = Duration::from_secs(10);
/// After a script: how long to keep recording what the client sends.
const AFTERMATH: Duration = Duration::from_millis(1500);

/// What the server does when the client starts its TLS handshake.
pub enum Handshake {
    /// Complete it with this configuration, then answer every command as a small mail server
    /// (AUTH PLAIN and LOGIN accepted, mail queued, QUIT answered and close_notify awaited).
    Serve(Arc<ServerConfig>),
    /// Complete it with this configuration, then play these steps inside TLS.
    Script(Arc<ServerConfig>, Vec<Step>),
    /// Read the client's first bytes (its ClientHello), then close the connection.
    CloseAfterHello,
    /// Read the ClientHello, then answer with bytes that are not TLS.
    GarbageAfterHello,
    /// Read the ClientHello and never answer (until the client gives up).
    Stall,
}

/// What the server does on one connection.
pub struct Plan {
    /// TLS from the first byte (no STARTTLS).
    pub implicit: bool,
    /// The EHLO reply in clear offers STARTTLS (it always offers AUTH, as a downgrading
    /// attacker would, to tempt the client).
    pub offer_starttls: bool,
    /// Bytes written in the same write as "220 Ready to start TLS".
    pub inject: &'static [u8],
    /// Bytes written once the client's ClientHello has begun to arrive, before any answer.
    pub inject_late: &'static [u8],
    pub handshake: Handshake,
}

impl Plan {
    /// STARTTLS: a greeting and EHLO (offering STARTTLS) in clear, then the handshake.
    pub fn starttls(handshake: Handshake) -> Plan {
        Plan { implicit: false, offer_starttls: true, inject: b"", inject_late: b"", handshake }
    }

    /// Implicit TLS: the handshake first.
    pub fn implicit(handshake: Handshake) -> Plan {
        Plan { implicit: true, ..Plan::starttls(handshake) }
    }
}

/// A server running one plan per connection, in the order the connections arrive, on one
/// loopback port (each connection served in its own thread).
pub struct TlsServer {
    pub port: u16,
    handle: JoinHandle<Vec<Seen>>,
}

impl TlsServer {
    /// One plan, for the first client, on 127.0.0.1.
    pub fn start(plan: Plan) -> TlsServer {
        Self::start_on("127.0.0.1:0", plan)
    }

    pub fn start_on(addr: &str, plan: Plan) -> TlsServer {
        Self::start_all(addr, vec![plan])
    }

    /// One plan per connection, on 127.0.0.1 (a client that reconnects).
    pub fn start_sequence(plans: Vec<Plan>) -> TlsServer {
        Self::start_all("127.0.0.1:0", plans)
    }

    /// As [`TlsServer::start_sequence`], waiting up to `accept_wait` for each connection (a
    /// client reconnects only once the timeouts of its first send have expired).
    pub fn start_patient(plans: Vec<Plan>, accept_wait: Duration) -> TlsServer {
        Self::start_within("127.0.0.1:0", plans, accept_wait)
    }

    fn start_all(addr: &str, plans: Vec<Plan>) -> TlsServer {
        Self::start_within(addr, plans, SERVER_WAIT)
    }

    fn start_within(addr: &str, plans: Vec<Plan>, accept_wait: Duration) -> TlsServer {
        let listener = TcpListener::bind(addr).expect("bind");
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let mut connections = Vec::new();
            for plan in plans {
                let Some(tcp) = accept_within(&listener, accept_wait) else { break };
                connections.push(std::thread::spawn(move || serve(tcp, plan)));
            }
            connections.into_iter().map(|c| c.join().expect("TLS connection thread")).collect()
        });
        TlsServer { port, handle }
    }

    /// Waits (bounded by the server's own timeouts) for the one plan to end; a `Seen` that
    /// is not `connected` when no client came.
    pub fn finish(self) -> Seen {
        self.finish_all().into_iter().next().unwrap_or_default()
    }

    /// Waits (bounded) for every plan to end: one `Seen` per connection that came.
    pub fn finish_all(self) -> Vec<Seen> {
        self.handle.join().expect("scripted TLS server thread")
    }
}

/// Accepts one connection within [`SERVER_WAIT`], blocking with that timeout.
pub fn accept(listener: &TcpListener) -> Option<TcpStream> {
    accept_within(listener, SERVER_WAIT)
}

/// Accepts one connection within `wait`; its reads and writes block for [`SERVER_WAIT`].
fn accept_within(listener: &TcpListener, wait: Duration) -> Option<TcpStream> {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + wait;
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(SERVER_WAIT)).unwrap();
                s.set_write_timeout(Some(SERVER_WAIT)).unwrap();
                s.set_nodelay(true).unwrap();
                return Some(s);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => return None,
        }
    }
}

/// Reads one line (CRLF stripped); every byte read is appended to `record`.
fn read_line(s: &mut impl Read, pending: &mut Vec<u8>, record: &mut Vec<u8>) -> Option<String> {
    read_until(s, pending, record, b"\r\n", Instant::now() + SERVER_WAIT).map(|l| String::from_utf8_lossy(&l).to_string())
}

/// Reads whatever arrives within `wait` (at least one read).
fn read_some(tcp: &mut TcpStream, wait: Duration) -> Vec<u8> {
    tcp.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 16384];
    let n = tcp.read(&mut buf).unwrap_or(0);
    tcp.set_read_timeout(Some(SERVER_WAIT)).unwrap();
    buf[..n].to_vec()
}

/// Waits (bounded) until the client closes its side.
pub fn wait_for_close(tcp: &mut TcpStream) {
    let deadline = Instant::now() + SERVER_WAIT;
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

fn serve(mut tcp: TcpStream, plan: Plan) -> Seen {
    let mut seen = Seen { connected: true, ..Seen::default() };
    if !plan.implicit && !clear_dialogue(&mut tcp, &plan, &mut seen) {
        return seen;
    }
    if !plan.inject_late.is_empty() {
        // The client has read "220" and begun its handshake: its ClientHello is arriving.
        let mut b = [0u8; 1];
        let deadline = Instant::now() + SERVER_WAIT;
        while !matches!(tcp.peek(&mut b), Ok(1)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = tcp.write_all(plan.inject_late);
    }
    match plan.handshake {
        Handshake::CloseAfterHello => {
            seen.hello = read_some(&mut tcp, SERVER_WAIT);
            let _ = tcp.shutdown(Shutdown::Both);
        }
        Handshake::GarbageAfterHello => {
            seen.hello = read_some(&mut tcp, SERVER_WAIT);
            let _ = tcp.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            wait_for_close(&mut tcp);
        }
        Handshake::Stall => {
            seen.hello = read_some(&mut tcp, SERVER_WAIT);
            wait_for_close(&mut tcp);
        }
        Handshake::Serve(config) => {
            if let Some(tls) = handshake(&mut seen, tcp, config) {
                answer(&mut seen, tls, plan.implicit);
            }
        }
        Handshake::Script(config, steps) => {
            if let Some(tls) = handshake(&mut seen, tcp, config) {
                play(&mut seen, tls, steps);
            }
        }
    }
    seen
}

/// The dialogue in clear up to STARTTLS and its 220 (with `plan.inject`). False when the
/// client ended it otherwise (QUIT, or a close).
fn clear_dialogue(tcp: &mut TcpStream, plan: &Plan, seen: &mut Seen) -> bool {
    let mut pending = Vec::new();
    let _ = tcp.write_all(b"220 scripted.test ESMTP\r\n");
    loop {
        let Some(line) = read_line(tcp, &mut pending, &mut seen.clear) else {
            seen.failures.push("the client closed in clear".into());
            return false;
        };
        let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" if plan.offer_starttls => b"250-scripted.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n",
            "EHLO" => b"250-scripted.test\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n",
            "QUIT" => {
                let _ = tcp.write_all(b"221 2.0.0 Bye\r\n");
                wait_for_close(tcp);
                return false;
            }
            "STARTTLS" => break,
            _ => b"530 5.7.0 Must issue a STARTTLS command first\r\n",
        };
        let _ = tcp.write_all(reply);
    }
    if !pending.is_empty() {
        seen.failures.push(format!("the client sent {:?} right after STARTTLS", String::from_utf8_lossy(&pending)));
    }
    let mut ready = b"220 2.0.0 Ready to start TLS\r\n".to_vec();
    ready.extend_from_slice(plan.inject);
    let _ = tcp.write_all(&ready);
    true
}

type Tls = StreamOwned<ServerConnection, TcpStream>;

/// The server's handshake; records the version, or the error (then waits for the client to
/// close and returns None).
fn handshake(seen: &mut Seen, mut tcp: TcpStream, config: Arc<ServerConfig>) -> Option<Tls> {
    let mut conn = ServerConnection::new(config).unwrap();
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            seen.tls_error = Some(e.to_string());
            wait_for_close(&mut tcp);
            return None;
        }
    }
    seen.version = conn.protocol_version().map(|v| match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
        other => format!("{other:?}"),
    });
    Some(StreamOwned::new(conn, tcp))
}

const EHLO_TLS: &str = "250-scripted.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n";

/// A small mail server over TLS that records what it decrypts.
fn answer(seen: &mut Seen, mut tls: Tls, implicit: bool) {
    let mut pending = Vec::new();
    if implicit {
        let _ = tls.write_all(b"220 scripted.test ESMTP (implicit TLS)\r\n");
    }
    loop {
        let Some(line) = read_line(&mut tls, &mut pending, &mut seen.received) else {
            seen.failures.push("the client closed without QUIT".into());
            return;
        };
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            EHLO_TLS.as_bytes()
        } else if upper.starts_with("AUTH PLAIN") {
            if upper.trim() == "AUTH PLAIN" {
                let _ = tls.write_all(b"334 \r\n");
                let _ = read_line(&mut tls, &mut pending, &mut seen.received);
            }
            b"235 2.7.0 Authentication successful\r\n"
        } else if upper.starts_with("AUTH LOGIN") {
            let _ = tls.write_all(b"334 VXNlcm5hbWU6\r\n");
            let _ = read_line(&mut tls, &mut pending, &mut seen.received);
            let _ = tls.write_all(b"334 UGFzc3dvcmQ6\r\n");
            let _ = read_line(&mut tls, &mut pending, &mut seen.received);
            b"235 2.7.0 Authentication successful\r\n"
        } else if upper.starts_with("MAIL") || upper.starts_with("RCPT") || upper.starts_with("RSET") {
            b"250 2.1.0 Ok\r\n"
        } else if upper == "DATA" {
            let _ = tls.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n");
            seen.message = read_until(&mut tls, &mut pending, &mut seen.received, b"\r\n.\r\n", Instant::now() + SERVER_WAIT);
            seen.messages.extend(seen.message.clone());
            b"250 2.0.0 Ok: queued as SCRIPTED\r\n"
        } else if upper == "QUIT" {
            let _ = tls.write_all(b"221 2.0.0 Bye\r\n");
            // The client ends TLS with close_notify: a clean end of stream, not a bare FIN.
            let mut rest = Vec::new();
            seen.clean_close = tls.read_to_end(&mut rest).is_ok();
            seen.received.extend_from_slice(&rest);
            tls.conn.send_close_notify();
            let _ = tls.flush();
            return;
        } else {
            b"502 5.5.2 Error: command not recognized\r\n"
        };
        let _ = tls.write_all(reply);
    }
}

/// Plays `steps` over TLS, recording what it decrypts.
fn play(seen: &mut Seen, mut tls: Tls, steps: Vec<Step>) {
    // Short reads, so that every wait keeps its own deadline.
    tls.sock.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let mut pending = Vec::new();
    let mut ended = false;
    for (i, step) in steps.into_iter().enumerate() {
        match step {
            Step::Send(b) => {
                if tls.write_all(&b).and_then(|()| tls.flush()).is_err() {
                    seen.failures.push(format!("step {i}: write failed"));
                }
            }
            Step::Trickle(b, pause_ms) => {
                for x in b {
                    if tls.write_all(&[x]).and_then(|()| tls.flush()).is_err() {
                        seen.failures.push(format!("step {i}: write failed"));
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(pause_ms));
                }
            }
            Step::Expect(prefix) => match read_until(&mut tls, &mut pending, &mut seen.received, b"\r\n", Instant::now() + SERVER_WAIT) {
                Some(line) if line.starts_with(prefix.as_bytes()) => {}
                Some(line) => seen.failures.push(format!("step {i}: expected {prefix:?}, got {:?}", String::from_utf8_lossy(&line))),
                None => seen.failures.push(format!("step {i}: expected {prefix:?}, got nothing")),
            },
            Step::ExpectData => match read_until(&mut tls, &mut pending, &mut seen.received, b"\r\n.\r\n", Instant::now() + SERVER_WAIT) {
                Some(m) => {
                    seen.messages.push(m.clone());
                    seen.message = Some(m);
                }
                None => seen.failures.push(format!("step {i}: no message content")),
            },
            Step::Silence(ms) => {
                if !pending.is_empty() {
                    seen.failures.push(format!("step {i}: client sent {:?} before silence", String::from_utf8_lossy(&pending)));
                }
                let heard = pending.len();
                let deadline = Instant::now() + Duration::from_millis(ms);
                while read_more(&mut tls, &mut pending, &mut seen.received, deadline) {}
                if pending.len() > heard {
                    seen.failures.push(format!("step {i}: client spoke during silence: {:?}", String::from_utf8_lossy(&pending[heard..])));
                }
            }
            Step::Mark => seen.marks.push(seen.received.len() - pending.len()),
            Step::Close => {
                // FIN without close_notify: a truncated TLS stream.
                let _ = tls.sock.shutdown(Shutdown::Both);
                ended = true;
                break;
            }
            Step::CloseNotify => {
                tls.conn.send_close_notify();
                let _ = tls.flush();
                let _ = tls.sock.shutdown(Shutdown::Both);
                ended = true;
                break;
            }
            Step::Reset => {
                linger_zero(&tls.sock);
                ended = true;
                break;
            }
            Step::OutsideTls(b) => {
                let _ = tls.sock.write_all(&b);
            }
            Step::Pause(ms) => std::thread::sleep(Duration::from_millis(ms)),
            Step::RecordThenRaw(text, raw) => {
                let _ = tls.conn.writer().write_all(&text);
                let mut out = Vec::new();
                while tls.conn.wants_write() {
                    if tls.conn.write_tls(&mut out).is_err() {
                        break;
                    }
                }
                out.extend_from_slice(&raw);
                if tls.sock.write_all(&out).is_err() {
                    seen.failures.push(format!("step {i}: write failed"));
                }
            }
            Step::Hold(ms) => {
                let deadline = Instant::now() + Duration::from_millis(ms);
                while read_more(&mut tls, &mut pending, &mut seen.received, deadline) {}
                ended = true;
                break;
            }
            // The body-phase faults need a fixed receive buffer and a slow reader of TLS
            // records: not built (the fault table leaves the body phase out over TLS).
            Step::Drain(_) | Step::ExpectDataSlowly { .. } => seen.failures.push(format!("step {i}: {step:?} is not played over TLS")),
        }
    }
    if !ended {
        // Record whatever else the client sends until it closes.
        let deadline = Instant::now() + AFTERMATH;
        while read_more(&mut tls, &mut pending, &mut seen.received, deadline) {}
    }
}
