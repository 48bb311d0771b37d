//! lettre (sync SMTP transport) driven like zsmtp's bench driver; prints the same JSON.
//!
//! ```text
//! bench-lettre oneshot PORT N   N mails, a connection per mail (SmtpTransport::send)
//! bench-lettre kept    PORT N   N mails over one connection (SmtpConnection::send)
//! bench-lettre attach  PORT PATH  one mail with PATH attached (lettre's Attachment and
//!                                 MultiPart::mixed builders; SmtpTransport::send)
//! ```
//! The small mail is built once, before the clock starts. `attach` reads its file and builds
//! the message inside the timed part, as sending a file takes (lettre holds the message, the
//! file and its base64, in memory). Loopback only.

use lettre::address::Envelope;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use lettre::transport::smtp::client::SmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};
use std::time::{Duration, Instant};

const BODY: &str = "Pump 7 over temperature.\nSensor 3 reads 93 C at 12:04:05.\nThis is a small alarm mail of about two hundred bytes, sent by the benchmark.\n";

fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// One mail with BODY as its text and the file at `path` attached.
fn attach(port: u16, path: &str) {
    let name = std::path::Path::new(path).file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name");
    let (c0, t0) = (cpu_ns(), Instant::now());
    let content = std::fs::read(path).expect("the attachment");
    let bytes = content.len();
    let message = Message::builder()
        .from("bench@example.test".parse().unwrap())
        .to("sink@example.test".parse().unwrap())
        .subject("zsmtp benchmark")
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(String::from(BODY)))
                .singlepart(Attachment::new(name.to_string()).body(content, ContentType::parse("application/octet-stream").unwrap())),
        )
        .unwrap();
    let transport = SmtpTransport::builder_dangerous("127.0.0.1").port(port).build();
    let ok = match transport.send(&message) {
        Ok(_) => 1,
        Err(e) => {
            eprintln!("bench-lettre: {e}");
            0
        }
    };
    let seconds = t0.elapsed().as_secs_f64();
    println!(
        "{{\"mails\":1,\"ok\":{ok},\"seconds\":{seconds:.6},\"cpu\":{:.6},\"bytes\":{bytes}}}",
        (cpu_ns() - c0) as f64 / 1e9
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("");
    let port: u16 = args.get(1).and_then(|v| v.parse().ok()).expect("port");
    if mode == "attach" {
        attach(port, args.get(2).expect("path"));
        return;
    }
    let n: usize = args.get(2).and_then(|v| v.parse().ok()).expect("count");
    let message = Message::builder()
        .from("bench@example.test".parse().unwrap())
        .to("sink@example.test".parse().unwrap())
        .subject("zsmtp benchmark")
        .header(ContentType::TEXT_PLAIN)
        .body(String::from(BODY))
        .unwrap();
    let mut ok = 0;
    let (c0, t0) = (cpu_ns(), Instant::now());
    match mode {
        "oneshot" => {
            let transport = SmtpTransport::builder_dangerous("127.0.0.1").port(port).build();
            for _ in 0..n {
                match transport.send(&message) {
                    Ok(_) => ok += 1,
                    Err(e) => eprintln!("bench-lettre: {e}"),
                }
            }
        }
        "kept" => {
            let envelope: Envelope = message.envelope().clone();
            let bytes = message.formatted();
            let hello = ClientId::Domain("bench.example.test".into());
            let mut conn = SmtpConnection::connect(("127.0.0.1", port), Some(Duration::from_secs(30)), &hello, None, None)
                .expect("connect");
            for _ in 0..n {
                match conn.send(&envelope, &bytes) {
                    Ok(_) => ok += 1,
                    Err(e) => eprintln!("bench-lettre: {e}"),
                }
            }
            let _ = conn.quit();
        }
        _ => {
            eprintln!("usage: bench-lettre oneshot|kept PORT N | attach PORT PATH");
            std::process::exit(2);
        }
    }
    let seconds = t0.elapsed().as_secs_f64();
    println!(
        "{{\"mails\":{n},\"ok\":{ok},\"seconds\":{seconds:.6},\"cpu\":{:.6},\"bytes\":0}}",
        (cpu_ns() - c0) as f64 / 1e9
    );
}
