//! A small SMTP peer over loopback for the outbox tests: it answers every connection (one at a
//! time) as a plain ESMTP server and decides each recipient and each message by a rule, so a
//! test can refuse, defer or vanish at the point it needs, for any number of mails and
//! connections (a script of fixed steps cannot follow a queue that retries).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the peer answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 250 (to a recipient, or to the final dot: the message is delivered).
    Accept,
    /// This reply line (without CRLF), for example "451 4.3.0 try later".
    Reply(&'static str),
    /// Final dot only: take the message (it counts as delivered) and close without a reply.
    Vanish,
}

/// A message the peer took: its content, and whether it vanished (took it without a reply).
#[derive(Debug, Clone)]
pub struct Taken {
    pub content: Vec<u8>,
    pub vanished: bool,
}

type RcptRule = dyn Fn(&str) -> Answer + Send + Sync;
type DataRule = dyn Fn(&[u8], usize) -> Answer + Send + Sync;

#[derive(Default)]
struct Log {
    taken: Vec<Taken>,
    connections: usize,
    /// How many times each message (by content) reached the final dot.
    attempts: Vec<(Vec<u8>, usize)>,
}

pub struct Peer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Log>>,
    thread: Option<JoinHandle<()>>,
}

impl Peer {
    /// A peer that accepts everything.
    pub fn accepting() -> Peer {
        Peer::start(|_| Answer::Accept, |_, _| Answer::Accept)
    }

    /// `rcpt` decides each RCPT TO (given the address); `data` each message (given its content
    /// and how many times this content reached the final dot before).
    pub fn start(rcpt: impl Fn(&str) -> Answer + Send + Sync + 'static, data: impl Fn(&[u8], usize) -> Answer + Send + Sync + 'static) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Log::default()));
        let (s, l) = (stop.clone(), log.clone());
        let rcpt: Arc<RcptRule> = Arc::new(rcpt);
        let data: Arc<DataRule> = Arc::new(data);
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        l.lock().unwrap().connections += 1;
                        serve(stream, &*rcpt, &*data, &l);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Peer { port, stop, log, thread: Some(thread) }
    }

    /// Every message taken, in order.
    pub fn taken(&self) -> Vec<Taken> {
        self.log.lock().unwrap().taken.clone()
    }

    pub fn connections(&self) -> usize {
        self.log.lock().unwrap().connections
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, rcpt: &RcptRule, data: &DataRule, log: &Mutex<Log>) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut out = stream.try_clone().unwrap();
    let mut input = BufReader::new(stream);
    let mut say = |text: &str| out.write_all(format!("{text}\r\n").as_bytes()).is_ok();
    if !say("220 peer.test ESMTP") {
        return;
    }
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let upper = line.to_ascii_uppercase();
        let ok = if upper.starts_with("EHLO") {
            say("250-peer.test\r\n250-8BITMIME\r\n250 SMTPUTF8")
        } else if upper.starts_with("RCPT TO:") {
            let address = line[8..].trim().trim_start_matches('<').trim_end_matches('>').to_string();
            match rcpt(&address) {
                Answer::Reply(text) => say(text),
                _ => say("250 2.1.5 Ok"),
            }
        } else if upper.starts_with("DATA") {
            say("354 go ahead");
            let mut content = Vec::new();
            loop {
                let mut l = Vec::new();
                if input.read_until(b'\n', &mut l).unwrap_or(0) == 0 {
                    return;
                }
                if l == b".\r\n" {
                    break;
                }
                content.extend_from_slice(&l);
            }
            let before = {
                let mut log = log.lock().unwrap();
                let seen = log.attempts.iter_mut().find(|(c, _)| *c == content);
                match seen {
                    Some((_, n)) => {
                        *n += 1;
                        *n - 1
                    }
                    None => {
                        log.attempts.push((content.clone(), 1));
                        0
                    }
                }
            };
            match data(&content, before) {
                Answer::Accept => {
                    log.lock().unwrap().taken.push(Taken { content, vanished: false });
                    say("250 2.0.0 Ok: queued")
                }
                Answer::Reply(text) => say(text),
                Answer::Vanish => {
                    log.lock().unwrap().taken.push(Taken { content, vanished: true });
                    return;
                }
            }
        } else if upper.starts_with("QUIT") {
            say("221 2.0.0 Bye");
            return;
        } else {
            // MAIL, RSET, NOOP, HELO
            say("250 2.0.0 Ok")
        };
        if !ok {
            return;
        }
    }
}

/// The value of header `name` in a message's content.
pub fn header(content: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(content);
    let prefix = format!("{name}: ");
    text.lines().take_while(|l| !l.is_empty()).find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
}

/// The unique token (`token-N`) a test put in a message's body.
pub fn token(content: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(content);
    let at = text.find("token-")?;
    Some(text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect())
}
