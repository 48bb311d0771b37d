//! smtp-send: send one mail from the command line with the zsmtp library.
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

environment: SMTP_SEND_LOG=debug logs the SMTP dialogue on stderr (credentials redacted);
             SMTP_SEND_PASSWORD is the password when no --password(-file) is given

exit status: 0 delivered; otherwise the NetX Duo status (0xA5 NX_SMTP_INVALID_PARAM for a
usage error or a file that cannot be read, and nothing is sent)";

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
            _ => unreachable!("checked against the known flags"),
        }
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
    let Some(server) = args.server.as_deref() else { return usage_error("--server is required") };
    let Some(from) = args.from.as_deref() else { return usage_error("--from is required") };
    if args.to.len() + args.cc.len() + args.bcc.len() == 0 {
        return usage_error("at least one --to, --cc or --bcc is required");
    }
    if args.to.len() + args.cc.len() + args.bcc.len() > MAX_RECIPIENTS {
        return usage_error(&format!("at most {MAX_RECIPIENTS} recipients per mail"));
    }
    let tls = match args.tls.as_deref() {
        Some("starttls") => TlsMode::StartTls,
        Some("implicit") => TlsMode::Implicit,
        _ => TlsMode::None,
    };
    let auth = args.auth.unwrap_or(if args.user.is_some() { Auth::Plain } else { Auth::None });
    if auth != Auth::None && args.user.is_none() {
        return usage_error("--auth plain/login needs --user and --password");
    }
    let oauth = matches!(auth, Auth::XOAuth2 | Auth::OAuthBearer);
    if oauth != args.token_file.is_some() {
        return usage_error("--token-file goes with --auth xoauth2 or oauthbearer (and --user), and they need it");
    }
    if oauth && (args.password.is_some() || args.password_file.is_some()) {
        return usage_error("--auth xoauth2/oauthbearer takes --token-file, not a password");
    }

    let password = match password(&args) {
        Ok(p) => p,
        Err(message) => return fail(status::NX_SMTP_INVALID_PARAM, &message, None),
    };
    let token = match args.token_file.as_deref().map(|path| first_line("--token-file", path)).transpose() {
        Ok(t) => t,
        Err(message) => return fail(status::NX_SMTP_INVALID_PARAM, &message, None),
    };
    // Files are opened (and the HTML read) before anything is sent or read from stdin.
    let mut files = Vec::new();
    for path in &args.attach {
        match AttachedFile::open(path) {
            Ok(f) => files.push(f),
            Err(message) => return fail(status::NX_SMTP_INVALID_PARAM, &message, None),
        }
    }
    let html = match &args.html_file {
        Some(path) => match std::fs::read(path) {
            Ok(html) => html,
            Err(e) => return fail(status::NX_SMTP_INVALID_PARAM, &format!("--html-file {path}: {e}"), None),
        },
        None => Vec::new(),
    };
    // A bad --ca-file is reported before waiting for a body on standard input.
    let transport = match transport_for(args.ca_file.as_deref()) {
        Ok(t) => t,
        Err(message) => return fail(status::NX_SMTP_INVALID_PARAM, &message, None),
    };
    let mut body = Vec::new();
    let read = match &args.body_file {
        Some(path) => std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut body)),
        None => std::io::stdin().read_to_end(&mut body),
    };
    if let Err(e) = read {
        let source = args.body_file.as_deref().map_or("standard input".to_string(), |path| format!("--body-file {path}"));
        return fail(status::NX_SMTP_INVALID_PARAM, &format!("{source}: cannot read the body: {e}"), None);
    }

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
    let token_source: &str = token.as_deref().unwrap_or("");
    let config = Config::new(server, args.port.unwrap_or(default_port), args.domain.as_deref().unwrap_or("localhost"), from);
    let config = if oauth {
        config.oauth(auth, args.user.as_deref().unwrap_or(""), &token_source)
    } else {
        config.auth(auth, args.user.as_deref().unwrap_or(""), password.as_deref().unwrap_or(""))
    };
    let config = config
        .timeouts(timeouts)
        .tls(tls)
        // `--tls none` (the default) is the user's explicit choice of a cleartext session.
        .allow_plaintext_auth(tls == TlsMode::None);

    let to: Vec<&str> = args.to.iter().map(String::as_str).collect();
    let cc: Vec<&str> = args.cc.iter().map(String::as_str).collect();
    let bcc: Vec<&str> = args.bcc.iter().map(String::as_str).collect();
    let mail = Mail::new(&args.subject, &body)
        .to(&to)
        .cc(&cc)
        .bcc(&bcc)
        .priority(args.priority.unwrap_or(Priority::Normal))
        .html(&html);
    let mut attachments: Vec<Attachment<'_>> =
        files.iter_mut().map(|f| Attachment::new(&f.name, &mut f.file).size(f.size)).collect();

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
            ExitCode::SUCCESS
        }
        Err(e) => fail(e.status(), &describe(&e), e.reply.as_ref().map(|r| r.to_string())),
    }
}
