//! smtp-send: send one mail from the command line with the zsmtp library, or queue mails in an
//! outbox directory (--queue), deliver what is queued (--flush) and list it (--list).
//!
//! Exit status 0 on success. Otherwise non-zero (the NetX status value) and the last line
//! on stderr is `error: NX_NAME (0xNN)`, followed by `: ` and the server's reply when there
//! is one. Credentials are never printed. `SMTP_SEND_LOG=debug` logs the dialogue on stderr
//! (AUTH lines redacted).

use std::io::Read as _;
use std::process::ExitCode;
use zsmtp::client::MAX_RECIPIENTS;
use zsmtp::error::{status, ErrorKind, Field, Invalid, Phase};
use zsmtp::transport::host::{StdClock, StdTransport};
use zsmtp::{Attachment, Auth, Client, Config, Error, Mail, Priority, Timeouts, TlsError, TlsMode};

const USAGE: &str = "\
usage: smtp-send --server HOST [--port N] [--auth none|plain|login|xoauth2|oauthbearer] [--user U]
                 [--password P | --password-file PATH | --token-file PATH]
                 --from ADDR [--domain NAME] --to ADDR [--to ADDR ...] [--cc ADDR ...] [--bcc ADDR ...]
                 [--subject TEXT] [--priority low|normal|high] [--body-file PATH]
                 [--html-file PATH] [--attach PATH ...]
                 [--tls none|starttls|implicit] [--ca-file PEM] [--reply-timeout SECS]
       smtp-send --queue DIR  (the message flags: --from --to ... --attach)
       smtp-send --flush DIR  (the connection flags: --server --port ... --ca-file) [--deadline SECS]
       smtp-send --list DIR

  --server HOST        server host name, IPv4 or IPv6 literal
  --port N             server port (default 25; 587 with starttls, 465 with implicit)
  --auth MECH          none, plain, login, xoauth2 or oauthbearer (default: plain with
                       --user, else none). xoauth2 and oauthbearer (OAuth 2.0) need --user
                       and --token-file, and fail before any credential is sent when the
                       server does not offer them
  --user U, --password P   credentials (never printed)
  --password-file PATH the password: the file's first line (its line end not included).
                       Without --password or --password-file, the environment variable
                       SMTP_SEND_PASSWORD gives it
  --token-file PATH    the OAuth 2.0 access token: the file's first line (never printed)
  --from ADDR          envelope sender and From header
  --domain NAME        name given in EHLO (default localhost)
  --to/--cc/--bcc ADDR recipients (each repeatable); Bcc appears in no header
  --subject TEXT       subject (non-ASCII is RFC 2047 encoded)
  --priority P         low, normal (default) or high
  --body-file PATH     message body (default: standard input)
  --html-file PATH     an HTML alternative of the body (multipart/alternative)
  --attach PATH        attach this file (repeatable; streamed, never read whole). Its type
                       by extension: .txt text/plain, .csv text/csv, .json application/json,
                       .png image/png, .jpg/.jpeg image/jpeg, .pdf application/pdf,
                       .gz application/gzip, else application/octet-stream
  --tls MODE           none (default; credentials then go in clear), starttls (required)
                       or implicit (TLS from the first byte)
  --ca-file PEM        trust only the CA certificate(s) in this PEM file (default: the
                       system's CA store; SSL_CERT_FILE/SSL_CERT_DIR select another one).
                       The server's certificate chain and name are always verified
  --reply-timeout SECS bound on every reply wait (default 30; final reply 60)
  --version            print the version and exit

outbox (a directory; one smtp-send at a time per directory):
  --queue DIR          store the mail durably in DIR and print its id; no server is
                       contacted. The mail is checked as a send checks it, and gets its
                       Date and Message-ID now (a resend carries the same Message-ID)
  --flush DIR          deliver what DIR holds, oldest first, over one connection; retry
                       failures that may pass (no connection, timeouts, 4xx) with backoff
                       until the deadline; a mail refused for good (5xx) is set aside as
                       failed. The sender is each mail's own (--from is not needed)
  --deadline SECS      how long --flush keeps retrying (default 60)
  --list DIR           one line per mail: id, state (queued, retrying, unknown, failed),
                       attempts, last reply

environment: SMTP_SEND_LOG=debug logs the SMTP dialogue on stderr (credentials redacted);
             SMTP_SEND_PASSWORD is the password when no --password(-file) is given

exit status: 0 delivered; otherwise the NetX Duo status (0xA5 NX_SMTP_INVALID_PARAM for a
usage error or a file that cannot be read, and nothing is sent).
  --queue: 0 stored; 0xA5 invalid (nothing stored); 0xA6 the outbox is full; 0xA3 storage
  --flush: 0 when no mail is left queued; otherwise non-zero, the last stderr line saying how
           many remain and why; a mail refused for good makes it non-zero once
  --list:  0";

/// A command-line problem: explained on one line, reported as NX_SMTP_INVALID_PARAM.
struct Usage(String);

#[derive(Default)]
struct Args {
    server: Option<String>,
    port: Option<u16>,
    auth: Option<Auth>,
    user: Option<String>,
    password: Option<String>,
    password_file: Option<String>,
    token_file: Option<String>,
    from: Option<String>,
    domain: Option<String>,
    to: Vec<String>,
    cc: Vec<String>,
    bcc: Vec<String>,
    subject: String,
    priority: Option<Priority>,
    body_file: Option<String>,
    html_file: Option<String>,
    attach: Vec<String>,
    tls: Option<String>,
    ca_file: Option<String>,
    reply_timeout_ms: Option<u32>,
    queue: Option<String>,
    flush: Option<String>,
    list: Option<String>,
    deadline_secs: Option<u32>,
}

/// What the command line asks for.
enum Command {
    Help,
    Version,
    Send(Box<Args>),
}

fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Command, Usage> {
    let mut a = Args::default();
    while let Some(flag) = argv.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(Command::Help);
        }
        if flag == "--version" {
            return Ok(Command::Version);
        }
        // Both "--flag value" and "--flag=value".
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (flag.clone(), None),
        };
        let known = [
            "--server", "--port", "--auth", "--user", "--password", "--password-file", "--token-file", "--from", "--domain", "--to", "--cc", "--bcc",
            "--subject", "--priority", "--body-file", "--html-file", "--attach", "--tls", "--ca-file", "--reply-timeout",
            "--queue", "--flush", "--list", "--deadline",
        ];
        if !known.contains(&name.as_str()) {
            return Err(Usage(format!("unknown argument '{name}'")));
        }
        let value = match inline {
            Some(v) => v,
            None => argv.next().ok_or_else(|| Usage(format!("{name} needs a value")))?,
        };
        match name.as_str() {
            "--server" => a.server = Some(value),
            "--port" => {
                let port = value.parse::<u16>().ok().filter(|&p| p != 0);
                a.port = Some(port.ok_or_else(|| Usage(format!("--port must be 1..65535, not '{value}'")))?);
            }
            "--auth" => {
                a.auth = Some(match value.as_str() {
                    "none" => Auth::None,
                    "plain" => Auth::Plain,
                    "login" => Auth::Login,
                    "xoauth2" => Auth::XOAuth2,
                    "oauthbearer" => Auth::OAuthBearer,
                    _ => return Err(Usage(format!("--auth must be none, plain, login, xoauth2 or oauthbearer, not '{value}'"))),
                })
            }
            "--user" => a.user = Some(value),
            "--password" => a.password = Some(value),
            "--password-file" => a.password_file = Some(value),
            "--token-file" => a.token_file = Some(value),
            "--from" => a.from = Some(value),
            "--domain" => a.domain = Some(value),
            "--to" => a.to.push(value),
            "--cc" => a.cc.push(value),
            "--bcc" => a.bcc.push(value),
            "--subject" => a.subject = value,
            "--priority" => {
                a.priority = Some(match value.as_str() {
                    "low" => Priority::Low,
                    "normal" => Priority::Normal,
                    "high" => Priority::High,
                    _ => return Err(Usage(format!("--priority must be low, normal or high, not '{value}'"))),
                })
            }
            "--body-file" => a.body_file = Some(value),
            "--html-file" => a.html_file = Some(value),
            "--attach" => a.attach.push(value),
            "--tls" => {
                if !matches!(value.as_str(), "none" | "starttls" | "implicit") {
                    return Err(Usage(format!("--tls must be none, starttls or implicit, not '{value}'")));
                }
                a.tls = Some(value)
            }
            "--ca-file" => a.ca_file = Some(value),
            "--reply-timeout" => {
                let secs = value.parse::<f64>().ok().filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0);
                let secs = secs.ok_or_else(|| Usage(format!("--reply-timeout must be a positive number of seconds, not '{value}'")))?;
                a.reply_timeout_ms = Some(((secs * 1000.0).ceil() as u32).max(1));
            }
            "--queue" => a.queue = Some(value),
            "--flush" => a.flush = Some(value),
            "--list" => a.list = Some(value),
            "--deadline" => {
                let secs = value.parse::<u32>().ok().filter(|&s| s <= 86_400);
                a.deadline_secs = Some(secs.ok_or_else(|| Usage(format!("--deadline must be 0..86400 seconds, not '{value}'")))?);
            }
            _ => unreachable!("checked against the known flags"),
        }
    }
    if [&a.queue, &a.flush, &a.list].iter().filter(|m| m.is_some()).count() > 1 {
        return Err(Usage("give one of --queue, --flush and --list".into()));
    }
    if a.deadline_secs.is_some() && a.flush.is_none() {
        return Err(Usage("--deadline goes with --flush".into()));
    }
    Ok(Command::Send(Box::new(a)))
}

/// The password: `--password`, else the first line of `--password-file` (without its line
/// end), else `SMTP_SEND_PASSWORD`. Errors name the file, never its content.
fn password(args: &Args) -> Result<Option<String>, String> {
    match (&args.password, &args.password_file) {
        (Some(_), Some(_)) => Err("give --password or --password-file, not both".into()),
        (Some(p), None) => Ok(Some(p.clone())),
        (None, Some(path)) => first_line("--password-file", path).map(Some),
        (None, None) => Ok(std::env::var("SMTP_SEND_PASSWORD").ok()),
    }
}

/// The first line of the file `path` given with `flag`, without its line end. Errors name the
/// file, never its content.
fn first_line(flag: &str, path: &str) -> Result<String, String> {
    let text = std::fs::read(path).map_err(|e| format!("{flag} {path}: {e}"))?;
    let line = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8(line.to_vec()).map_err(|_| format!("{flag} {path}: not UTF-8 text"))
}

/// An attachment's file, opened before anything is sent.
struct AttachedFile {
    /// The file name the mail gives it (the path's last component).
    name: String,
    size: u64,
    file: FileSource,
}

/// A file as the engine's reader.
struct FileSource(std::fs::File);

impl embedded_io::ErrorType for FileSource {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for FileSource {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        use std::io::Read as _;
        self.0.read(buf).map_err(|e| e.kind().into())
    }
}

impl AttachedFile {
    /// Opens `path` for `--attach`; a file that cannot be opened or read, or whose name is
    /// not UTF-8, is refused with a reason.
    fn open(path: &str) -> Result<AttachedFile, String> {
        let reason = |e: &dyn std::fmt::Display| format!("--attach {path}: {e}");
        let file = std::fs::File::open(path).map_err(|e| reason(&e))?;
        let meta = file.metadata().map_err(|e| reason(&e))?;
        if !meta.is_file() {
            return Err(reason(&"not a regular file"));
        }
        let name = std::path::Path::new(path).file_name().and_then(|n| n.to_str());
        let name = name.ok_or_else(|| reason(&"the file name is not UTF-8"))?.to_string();
        Ok(AttachedFile { name, size: meta.len(), file: FileSource(file) })
    }
}

/// One line that says what went wrong, in words (never with a credential's value).
fn describe(e: &Error) -> String {
    let field = |f: Field| match f {
        Field::Server => "the server name",
        Field::Port => "the port",
        Field::Domain => "the EHLO domain",
        Field::From => "the sender address",
        Field::Recipient => "a recipient address",
        Field::Subject => "the subject",
        Field::Username => "the user name",
        Field::Password => "the password",
        Field::Body => "the body",
        Field::Priority => "the priority",
        Field::Auth => "the authentication mechanism",
        #[cfg(feature = "oauth2")]
        Field::Token => "the OAuth 2.0 token",
        Field::Timeouts => "a timeout",
        Field::Pipelining => "the pipelining switch",
        Field::TlsName => "the TLS server name",
        Field::Attachment => "an attachment's file name or content type",
    };
    let phase = match e.phase {
        Phase::Validate => "before sending",
        Phase::Connect => "while connecting",
        Phase::Greeting => "at the greeting",
        Phase::Hello => "at EHLO/HELO",
        Phase::Tls => "at STARTTLS/TLS",
        Phase::Auth => "at AUTH",
        Phase::Mail => "at MAIL FROM",
        Phase::Rcpt => "at RCPT TO",
        Phase::Data => "at DATA",
        Phase::Message => "after the message",
    };
    match e.kind {
        ErrorKind::InvalidInput(f, why) => format!(
            "{} {}; nothing was delivered",
            field(f),
            match why {
                Invalid::ControlCharacter => "contains a control character (CR, LF or NUL)",
                Invalid::TooLong => "is too long",
                Invalid::Empty => "is missing or empty",
                Invalid::Syntax => "is not valid",
                Invalid::NotSupportedByServer => "needs SMTPUTF8, which the server does not offer",
            }
        ),
        ErrorKind::HostNotFound => "the server name does not resolve".into(),
        ErrorKind::NotConnected => format!("the connection failed or was closed {phase}"),
        ErrorKind::Timeout => format!("no reply in time {phase}"),
        ErrorKind::Transmit => format!("sending failed {phase}"),
        ErrorKind::Rejected => format!("the server refused {phase}"),
        ErrorKind::Malformed => format!("the server sent an invalid reply {phase}"),
        ErrorKind::ReplyTooLong => format!("a reply line was longer than the receive buffer {phase}"),
        ErrorKind::AuthNotOffered => {
            "the server does not offer the authentication mechanism asked for; no credentials were sent".into()
        }
        ErrorKind::TooLarge => "the message is larger than the server's SIZE limit; nothing was sent".into(),
        ErrorKind::BodyRead => "reading the body failed; the mail was abandoned".into(),
        ErrorKind::StartTlsNotOffered => {
            "STARTTLS is required but the server does not offer it; nothing else was sent".into()
        }
        ErrorKind::Tls(t) => match t {
            TlsError::Unsupported => "TLS is not available in this build".into(),
            TlsError::NoTrustAnchors => "no CA certificates to verify the server with (--ca-file)".into(),
            TlsError::UntrustedCertificate => "the server's certificate is not signed by a trusted CA".into(),
            TlsError::NameMismatch => "the server's certificate does not name the server".into(),
            TlsError::Expired => "the server's certificate is expired or not yet valid".into(),
            TlsError::Handshake => "the TLS handshake failed".into(),
            TlsError::Timeout => "the TLS handshake did not finish in time".into(),
            TlsError::ClockNotSet => "the clock is not set, so the certificate's dates cannot be checked".into(),
        },
        ErrorKind::TlsUnexpectedData => {
            "the server sent data before the TLS handshake (possible injection); session abandoned".into()
        }
        ErrorKind::PlaintextAuthRefused => "credentials would be sent without encryption; nothing was sent".into(),
        ErrorKind::OutcomeUnknown => {
            "the connection ended after the message was sent and before the server's reply: it may or may not have been delivered".into()
        }
    }
}

fn fail(status_value: u32, explanation: &str, reply: Option<String>) -> ExitCode {
    eprintln!("smtp-send: {explanation}");
    let mut last = format!("error: {} (0x{:02X})", status::name(status_value), status_value);
    if let Some(reply) = reply {
        last.push_str(": ");
        last.push_str(&reply);
    }
    eprintln!("{last}");
    ExitCode::from(u8::try_from(status_value).unwrap_or(1).max(1))
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("{USAGE}");
    fail(status::NX_SMTP_INVALID_PARAM, message, None)
}

struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        eprintln!("smtp-send: {}", record.args());
    }
    fn flush(&self) {}
}

fn init_logging() {
    let level = match std::env::var("SMTP_SEND_LOG").as_deref() {
        Ok("trace") => log::LevelFilter::Trace,
        Ok("debug") => log::LevelFilter::Debug,
        Ok("info") => log::LevelFilter::Info,
        _ => return,
    };
    static LOGGER: StderrLogger = StderrLogger;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}

/// The transport: trusting only the CA certificates of `--ca-file` when given, else the
/// system's CA store (read when TLS is first used). A CA file that cannot be read or holds no
/// usable certificate is an error before anything is sent.
fn transport_for(ca_file: Option<&str>) -> Result<StdTransport, String> {
    match ca_file {
        None => Ok(StdTransport::new()),
        Some(path) => StdTransport::with_ca_file(path).map_err(|e| format!("--ca-file {path}: {e}")),
    }
}

/// What the connection flags say, read and checked (credentials read from their files).
struct Connect {
    server: String,
    port: u16,
    auth: Auth,
    tls: TlsMode,
    password: Option<String>,
    token: Option<String>,
    timeouts: Timeouts,
}

/// The connection flags and the transport they ask for.
fn connection(args: &Args) -> Result<(Connect, StdTransport), ExitCode> {
    let Some(server) = args.server.clone() else { return Err(usage_error("--server is required")) };
    let tls = match args.tls.as_deref() {
        Some("starttls") => TlsMode::StartTls,
        Some("implicit") => TlsMode::Implicit,
        _ => TlsMode::None,
    };
    let auth = args.auth.unwrap_or(if args.user.is_some() { Auth::Plain } else { Auth::None });
    if auth != Auth::None && args.user.is_none() {
        return Err(usage_error("--auth plain/login needs --user and --password"));
    }
    let oauth = matches!(auth, Auth::XOAuth2 | Auth::OAuthBearer);
    if oauth != args.token_file.is_some() {
        return Err(usage_error("--token-file goes with --auth xoauth2 or oauthbearer (and --user), and they need it"));
    }
    if oauth && (args.password.is_some() || args.password_file.is_some()) {
        return Err(usage_error("--auth xoauth2/oauthbearer takes --token-file, not a password"));
    }
    let invalid = |message: String| fail(status::NX_SMTP_INVALID_PARAM, &message, None);
    let password = password(args).map_err(invalid)?;
    let token = args.token_file.as_deref().map(|path| first_line("--token-file", path)).transpose().map_err(invalid)?;
    let transport = transport_for(args.ca_file.as_deref()).map_err(invalid)?;
    let mut timeouts = Timeouts::DEFAULT;
    if let Some(ms) = args.reply_timeout_ms {
        timeouts = timeouts.every_reply(ms);
        timeouts.total_ms = timeouts.total_ms.max(ms.saturating_mul(8));
    }
    let default_port = match tls {
        TlsMode::None => 25,
        TlsMode::StartTls => 587,
        TlsMode::Implicit => 465,
    };
    Ok((Connect { server, port: args.port.unwrap_or(default_port), auth, tls, password, token, timeouts }, transport))
}

impl Connect {
    /// The configuration, borrowing the strings it needs (`token` is the token's source).
    fn config<'a>(&'a self, args: &'a Args, from: &'a str, token: &'a &'a str) -> Config<'a> {
        let config = Config::new(&self.server, self.port, args.domain.as_deref().unwrap_or("localhost"), from);
        let config = if matches!(self.auth, Auth::XOAuth2 | Auth::OAuthBearer) {
            config.oauth(self.auth, args.user.as_deref().unwrap_or(""), token)
        } else {
            config.auth(self.auth, args.user.as_deref().unwrap_or(""), self.password.as_deref().unwrap_or(""))
        };
        config
            .timeouts(self.timeouts)
            .tls(self.tls)
            // `--tls none` (the default) is the user's explicit choice of a cleartext session.
            .allow_plaintext_auth(self.tls == TlsMode::None)
    }
}

/// What the message flags say: the sender, the recipients checked for count, the attachments
/// opened and the HTML read (the body is read by [`read_body`]).
struct Message {
    from: String,
    files: Vec<AttachedFile>,
    html: Vec<u8>,
}

fn message(args: &Args) -> Result<Message, ExitCode> {
    let Some(from) = args.from.clone() else { return Err(usage_error("--from is required")) };
    if args.to.len() + args.cc.len() + args.bcc.len() == 0 {
        return Err(usage_error("at least one --to, --cc or --bcc is required"));
    }
    if args.to.len() + args.cc.len() + args.bcc.len() > MAX_RECIPIENTS {
        return Err(usage_error(&format!("at most {MAX_RECIPIENTS} recipients per mail")));
    }
    // Files are opened (and the HTML read) before anything is sent or read from stdin.
    let mut files = Vec::new();
    for path in &args.attach {
        files.push(AttachedFile::open(path).map_err(|message| fail(status::NX_SMTP_INVALID_PARAM, &message, None))?);
    }
    let html = match &args.html_file {
        Some(path) => std::fs::read(path).map_err(|e| fail(status::NX_SMTP_INVALID_PARAM, &format!("--html-file {path}: {e}"), None))?,
        None => Vec::new(),
    };
    Ok(Message { from, files, html })
}

fn read_body(args: &Args) -> Result<Vec<u8>, ExitCode> {
    let mut body = Vec::new();
    let read = match &args.body_file {
        Some(path) => std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut body)),
        None => std::io::stdin().read_to_end(&mut body),
    };
    if let Err(e) = read {
        let source = args.body_file.as_deref().map_or("standard input".to_string(), |path| format!("--body-file {path}"));
        return Err(fail(status::NX_SMTP_INVALID_PARAM, &format!("{source}: cannot read the body: {e}"), None));
    }
    Ok(body)
}

fn main() -> ExitCode {
    init_logging();
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Send(a)) => a,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("smtp-send {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(Usage(message)) => return usage_error(&message),
    };
    let result = if let Some(dir) = args.queue.as_deref() {
        outbox_cli::queue(&args, dir)
    } else if let Some(dir) = args.flush.as_deref() {
        outbox_cli::flush(&args, dir)
    } else if let Some(dir) = args.list.as_deref() {
        outbox_cli::list(dir)
    } else {
        send(&args)
    };
    result.unwrap_or_else(|code| code)
}

/// The recipients of the message flags, as the engine borrows them.
struct Recipients<'a> {
    to: Vec<&'a str>,
    cc: Vec<&'a str>,
    bcc: Vec<&'a str>,
}

impl<'a> Recipients<'a> {
    fn of(args: &'a Args) -> Self {
        let list = |v: &'a [String]| v.iter().map(String::as_str).collect();
        Recipients { to: list(&args.to), cc: list(&args.cc), bcc: list(&args.bcc) }
    }

    /// The mail the message flags describe, with `body` and its HTML alternative.
    fn mail<'m>(&'m self, args: &'m Args, body: &'m [u8], html: &'m [u8]) -> Mail<'m> {
        Mail::new(&args.subject, body)
            .to(&self.to)
            .cc(&self.cc)
            .bcc(&self.bcc)
            .priority(args.priority.unwrap_or(Priority::Normal))
            .html(html)
    }
}

/// Sends one mail now.
fn send(args: &Args) -> Result<ExitCode, ExitCode> {
    let (connect, transport) = connection(args)?;
    let mut message = message(args)?;
    let body = read_body(args)?;
    let token_source: &str = connect.token.as_deref().unwrap_or("");
    let config = connect.config(args, &message.from, &token_source);
    let recipients = Recipients::of(args);
    let mail = recipients.mail(args, &body, &message.html);
    let mut attachments: Vec<Attachment<'_>> =
        message.files.iter_mut().map(|f| Attachment::new(&f.name, &mut f.file).size(f.size)).collect();

    // The host CLI can afford a generous transmit buffer: fewer, larger writes.
    let result = match Client::<_, _, 512, 16384>::new(config, transport, StdClock::new()) {
        // Without attachments, `send` (which sends an HTML alternative as MIME too): a plain
        // body keeps its one text/plain part, and its line rules.
        Ok(mut client) if attachments.is_empty() => client.send(&mail),
        Ok(mut client) => client.send_mime(&mail, &mut attachments),
        Err(e) => Err(e),
    };
    match result {
        Ok(sent) => {
            println!("{}", sent.reply);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(fail(e.status(), &describe(&e), e.reply.as_ref().map(|r| r.to_string()))),
    }
}

/// --queue, --flush and --list: the outbox in a directory.
mod outbox_cli {
    use super::*;
    use std::time::Duration;
    use zsmtp::outbox::{DirStorage, EventKind, OnUnknown, Outbox, OutboxError, Policy};

    /// Mails one outbox directory holds at most.
    pub const CAPACITY: usize = zsmtp::outbox::MAX_SLOTS - 1;
    /// The largest text and fields of one mail (attachments are not bounded by it).
    const MAX_TEXT: usize = 16 << 20;
    /// Retries while --flush runs: 1 s after the first failure, doubling up to 10 s.
    const POLICY: Policy = Policy { first_retry_ms: 1000, max_retry_ms: 10_000, on_unknown: OnUnknown::Resend };

    type DirOutbox<'w> = Outbox<'w, DirStorage, CAPACITY>;

    fn storage_failed(dir: &str, e: &dyn std::fmt::Display) -> ExitCode {
        fail(status::NX_SMTP_INTERNAL_ERROR, &format!("outbox {dir}: {e}"), None)
    }

    /// The work buffer: one record and the largest mail's text (allocated lazily by the OS).
    fn work() -> Vec<u8> {
        vec![0u8; DirStorage::DEFAULT_RECORD_SIZE + MAX_TEXT]
    }

    fn open<'w>(dir: &str, work: &'w mut [u8], policy: Policy) -> Result<DirOutbox<'w>, ExitCode> {
        let storage = DirStorage::open(dir, DirStorage::DEFAULT_RECORD_SIZE).map_err(|e| storage_failed(dir, &e))?;
        let (outbox, recovered) = Outbox::open(storage, work, policy).map_err(|e| storage_failed(dir, &e))?;
        if recovered.discarded > 0 {
            eprintln!("smtp-send: outbox {dir}: {} unfinished write(s) discarded", recovered.discarded);
        }
        if recovered.damaged > 0 {
            eprintln!("smtp-send: outbox {dir}: {} damaged mail(s) set aside as failed", recovered.damaged);
        }
        Ok(outbox)
    }

    pub fn queue(args: &Args, dir: &str) -> Result<ExitCode, ExitCode> {
        let mut message = message(args)?;
        let body = read_body(args)?;
        let recipients = Recipients::of(args);
        let mail = recipients.mail(args, &body, &message.html);
        let mut attachments: Vec<Attachment<'_>> =
            message.files.iter_mut().map(|f| Attachment::new(&f.name, &mut f.file).size(f.size)).collect();
        let mut work = work();
        let mut outbox = open(dir, &mut work, POLICY)?;
        let mut clock = StdClock::new();
        match outbox.submit_mime(&message.from, &mail, &mut attachments, &mut clock) {
            Ok(ticket) => {
                println!("{ticket}");
                Ok(ExitCode::SUCCESS)
            }
            Err(OutboxError::Invalid(e)) => Err(fail(e.status(), &describe(&e).replace("nothing was delivered", "nothing was stored"), None)),
            Err(OutboxError::Full) => Err(fail(status::NX_SMTP_PACKET_ALLOCATE_ERROR, &format!("outbox {dir} is full ({} mails); nothing was stored", outbox.len()), None)),
            Err(OutboxError::TooLarge) => Err(fail(status::NX_SMTP_INVALID_PARAM, "the mail is larger than the outbox can hold; nothing was stored", None)),
            Err(e) => Err(storage_failed(dir, &e)),
        }
    }

    pub fn flush(args: &Args, dir: &str) -> Result<ExitCode, ExitCode> {
        let (mut connect, transport) = connection(args)?;
        let deadline_ms = u64::from(args.deadline_secs.unwrap_or(60)) * 1000;
        // No send outlives the deadline by more than its own reply timeouts.
        connect.timeouts.total_ms = connect.timeouts.total_ms.min(u32::try_from(deadline_ms).unwrap_or(u32::MAX).max(1000));
        let token_source: &str = connect.token.as_deref().unwrap_or("");
        // Every queued mail carries its own sender; the configuration's is never used.
        let config = connect.config(args, "outbox@localhost", &token_source);
        let mut client = Client::<_, _, 512, 16384>::new(config, transport, StdClock::new())
            .map_err(|e| fail(e.status(), &describe(&e), None))?;
        let mut work = work();
        let mut outbox = open(dir, &mut work, POLICY)?;
        let mut clock = StdClock::new();
        let start = zsmtp::Clock::now_ms(&clock);
        outbox.retry_now();
        let (mut refused, mut last_refusal, mut last_error) = (0usize, None, None);
        loop {
            let mut report = |e: &zsmtp::outbox::Event<'_>| {
                let reply = if e.reply.code == 0 { e.reply.text().to_string() } else { e.reply.to_string() };
                match e.kind {
                    EventKind::Delivered => println!("{} delivered: {reply}", e.ticket),
                    EventKind::Retrying => eprintln!("smtp-send: mail {} not delivered (attempt {}), will retry: {reply}", e.ticket, e.attempts),
                    EventKind::Unknown => eprintln!("smtp-send: mail {} outcome unknown (attempt {}), will resend with the same Message-ID: {reply}", e.ticket, e.attempts),
                    EventKind::Failed => eprintln!("smtp-send: mail {} refused for good, set aside as failed: {reply}", e.ticket),
                }
            };
            let batch = outbox.deliver(&mut client, &mut clock, &mut report).map_err(|e| storage_failed(dir, &e))?;
            if batch.failed > 0 {
                refused += batch.failed;
                last_refusal = batch.last_error.clone();
            }
            if batch.last_error.is_some() {
                last_error = batch.last_error;
            }
            if outbox.pending() == 0 {
                break;
            }
            let now = zsmtp::Clock::now_ms(&clock);
            match outbox.next_due_ms() {
                Some(due) if due <= start + deadline_ms => std::thread::sleep(Duration::from_millis(due.saturating_sub(now))),
                _ => break,
            }
        }
        let remaining = outbox.pending();
        if remaining > 0 {
            let why = match &last_error {
                Some(e) => {
                    let mut why = format!("{} (0x{:02X}): {}", e.status_name(), e.status(), describe(e));
                    if let Some(reply) = &e.reply {
                        why.push_str(": ");
                        why.push_str(&reply.to_string());
                    }
                    why
                }
                None => "the deadline passed".to_string(),
            };
            eprintln!("error: {remaining} mail(s) remain queued in {dir}: {why}");
            let code = last_error.map_or(1, |e| e.status());
            return Err(ExitCode::from(u8::try_from(code).unwrap_or(1).max(1)));
        }
        if refused > 0 {
            let (code, reply) = last_refusal.map_or((status::NX_SMTP_SERVER_ERROR_REPLY, String::new()), |e| {
                (e.status(), e.reply.map(|r| format!(": {r}")).unwrap_or_default())
            });
            eprintln!("error: {refused} mail(s) refused for good and set aside as failed in {dir} ({}){reply}", status::name(code));
            return Err(ExitCode::from(u8::try_from(code).unwrap_or(1).max(1)));
        }
        Ok(ExitCode::SUCCESS)
    }

    pub fn list(dir: &str) -> Result<ExitCode, ExitCode> {
        if !std::path::Path::new(dir).is_dir() {
            return Ok(ExitCode::SUCCESS);
        }
        let mut work = work();
        let mut outbox = open(dir, &mut work, POLICY)?;
        let mut lines = Vec::new();
        outbox
            .list(|s| {
                let reply = match &s.reply {
                    None => "-".to_string(),
                    Some(r) if r.code == 0 => r.text().to_string(),
                    Some(r) => r.to_string(),
                };
                lines.push(format!("{} {} {} {}", s.ticket, s.state.name(), s.attempts, reply));
            })
            .map_err(|e| storage_failed(dir, &e))?;
        for line in lines {
            println!("{line}");
        }
        Ok(ExitCode::SUCCESS)
    }
}
