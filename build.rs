//! Build script of zsmtp. Two jobs:
//!
//! 1. **The build configuration**, the way smoltcp and zephyr-build do it: the settings below
//!    are read once into a [`BuildConfig`] and written as typed constants to
//!    `OUT_DIR/build_config.rs`, which `src/limits.rs` `include!`s. Each value is, in this order:
//!    - the `ZSMTP_*` environment variable named in [`SETTINGS`], when set;
//!    - on Zephyr, the `.config` named by `DOTCONFIG` (zephyr-lang-rust's
//!      `rust_cargo_application()` and this module's CMakeLists.txt pass it to every cargo build);
//!    - else the `default` of the module's `Kconfig`, the one place the defaults are written
//!      (Zephyr builds read them there too), except the few that Kconfig does not define or
//!      that a host build sets otherwise on purpose ([`FALLBACKS`], [`HOST_DEFAULTS`]).
//!
//!    Kconfig's own default timeouts also go to `OUT_DIR/kconfig_defaults.rs`, the library's
//!    `Timeouts::DEFAULT`.
//!
//!    Values are checked here (decimal, within the Kconfig `range`, a known TLS mode): a bad one
//!    stops the build with the variable's name.
//! 2. **The POSIX twin of the Zephyr shim**: with the `zsock` feature on a target that has an
//!    operating system (host tests, tools), `shim/posix/` and `shim/common/` are compiled with the
//!    `cc` crate and linked, so the Zephyr transport runs on the host against real servers. Its
//!    configuration store gets the same settings as `-D CONFIG_SMTP_CLIENT_*`, the names the
//!    Zephyr shim gets from Kconfig. On bare-metal targets (`target_os = "none"`, i.e. Zephyr)
//!    nothing is compiled: the Zephyr module links the shim into the image.
//!    The twin's TLS (`shim/common/smtp_shim_tls_mbedtls.c`, the TLS client of the Zephyr shim)
//!    is built against mbedTLS 3.6 or 4.x installed under `ZSMTP_MBEDTLS_DIR` (`include/`,
//!    `lib/`; default `~/.cache/zsmtp-mbedtls-3.6.0`, where `scripts/mbedtls-host` builds 3.6.0),
//!    else against the system's headers if they are 3.6 or newer, and links its static libraries:
//!    `mbedtls`, `mbedx509` and `mbedcrypto` (3.6) or `tfpsacrypto` (4.x). A C program linking
//!    the host static library built with `zsock` adds the same (`-L$ZSMTP_MBEDTLS_DIR/lib`).
//!    `ZSMTP_SHIM_TLS=0` builds the twin without TLS instead (every TLS call then fails as
//!    unsupported).

use std::collections::BTreeMap;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// What kind of Kconfig symbol a setting is.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Int,
    Bool,
    Str,
    /// A Kconfig `choice`: its value is the chosen member's symbol.
    Choice,
}

/// One build-time setting: its Kconfig symbol (without `CONFIG_`), the environment variable
/// that overrides it, and its kind.
struct Setting {
    symbol: &'static str,
    env: Option<&'static str>,
    kind: Kind,
}

const fn int(symbol: &'static str, env: Option<&'static str>) -> Setting {
    Setting { symbol, env, kind: Kind::Int }
}

/// Every setting zsmtp reads at build time: the Rust constants of `src/limits.rs` and the
/// defaults of the POSIX twin's configuration store.
const SETTINGS: &[Setting] = &[
    int("SMTP_CLIENT_MAX_USERNAME", Some("ZSMTP_MAX_USERNAME")),
    int("SMTP_CLIENT_MAX_PASSWORD", Some("ZSMTP_MAX_PASSWORD")),
    int("SMTP_CLIENT_MAX_DOMAIN", Some("ZSMTP_MAX_DOMAIN")),
    int("SMTP_CLIENT_MAX_ADDRESS", Some("ZSMTP_MAX_ADDRESS")),
    int("SMTP_CLIENT_MAX_REPLY_TEXT", Some("ZSMTP_MAX_REPLY_TEXT")),
    int("SMTP_CLIENT_RX_BUFFER_SIZE", Some("ZSMTP_RX_BUFFER_SIZE")),
    int("SMTP_CLIENT_TX_BUFFER_SIZE", Some("ZSMTP_TX_BUFFER_SIZE")),
    int("SMTP_CLIENT_LOCK_WORDS", Some("ZSMTP_LOCK_WORDS")),
    int("SMTP_CLIENT_OAUTH2_TOKEN_MAX", Some("ZSMTP_OAUTH2_TOKEN_MAX")),
    int("SMTP_CLIENT_OUTBOX_SLOTS", Some("ZSMTP_OUTBOX_SLOTS")),
    int("SMTP_CLIENT_OUTBOX_RECORD_MAX", Some("ZSMTP_OUTBOX_RECORD_MAX")),
    int("SMTP_CLIENT_OUTBOX_TEXT_MAX", Some("ZSMTP_OUTBOX_TEXT_MAX")),
    int("SMTP_CLIENT_OUTBOX_WORKER_WORDS", Some("ZSMTP_OUTBOX_WORKER_WORDS")),
    int("SMTP_CLIENT_OUTBOX_RETRY_FIRST_MS", None),
    int("SMTP_CLIENT_OUTBOX_RETRY_MAX_MS", None),
    // Zephyr's level numbers (0 off, 1 ERR, 2 WRN, 3 INF, 4 DBG), from the log template.
    int("SMTP_CLIENT_LOG_LEVEL", Some("ZSMTP_LOG_LEVEL")),
    int("SMTP_CLIENT_CONNECT_TIMEOUT_MS", Some("ZSMTP_CONNECT_TIMEOUT_MS")),
    int("SMTP_CLIENT_GREETING_TIMEOUT_MS", Some("ZSMTP_GREETING_TIMEOUT_MS")),
    int("SMTP_CLIENT_REPLY_TIMEOUT_MS", Some("ZSMTP_REPLY_TIMEOUT_MS")),
    int("SMTP_CLIENT_SEND_TIMEOUT_MS", Some("ZSMTP_SEND_TIMEOUT_MS")),
    int("SMTP_CLIENT_FINAL_REPLY_TIMEOUT_MS", Some("ZSMTP_FINAL_REPLY_TIMEOUT_MS")),
    int("SMTP_CLIENT_TOTAL_TIMEOUT_MS", None),
    int("SMTP_CLIENT_PORT", None),
    Setting { symbol: "SMTP_CLIENT_ALLOW_PLAINTEXT_AUTH", env: Some("ZSMTP_ALLOW_PLAINTEXT_AUTH"), kind: Kind::Bool },
    Setting { symbol: "SMTP_CLIENT_PIPELINING", env: None, kind: Kind::Bool },
    Setting { symbol: "SMTP_CLIENT_TLS", env: Some("ZSMTP_TLS_MODE"), kind: Kind::Choice },
    Setting { symbol: "SMTP_CLIENT_AUTH", env: None, kind: Kind::Choice },
    Setting { symbol: "SMTP_CLIENT_SERVER", env: None, kind: Kind::Str },
    Setting { symbol: "SMTP_CLIENT_DOMAIN", env: None, kind: Kind::Str },
    Setting { symbol: "SMTP_CLIENT_FROM", env: None, kind: Kind::Str },
    Setting { symbol: "SMTP_CLIENT_USERNAME", env: None, kind: Kind::Str },
    Setting { symbol: "SMTP_CLIENT_PASSWORD", env: None, kind: Kind::Str },
];

/// Defaults Kconfig does not write in the module's file: the log level comes from Zephyr's log
/// template, whose default is `LOG_DEFAULT_LEVEL`'s, 3 (INF).
const FALLBACKS: &[(&str, &str)] = &[("SMTP_CLIENT_LOG_LEVEL", "3")];

/// Where a host build (no `DOTCONFIG`, a target with an operating system: tests and tools
/// against local servers) differs from the firmware defaults, on purpose: the dialogue is logged
/// (level 4), credentials may cross a local unencrypted link, and the twin's EHLO name is
/// `localhost`.
const HOST_DEFAULTS: &[(&str, &str)] =
    &[("SMTP_CLIENT_LOG_LEVEL", "4"), ("SMTP_CLIENT_ALLOW_PLAINTEXT_AUTH", "y"), ("SMTP_CLIENT_DOMAIN", "localhost")];

/// `ZSMTP_TLS_MODE` values and the members of the Kconfig choice `SMTP_CLIENT_TLS` they select.
const TLS_MODES: &[(&str, &str, &str)] = &[
    ("none", "SMTP_CLIENT_TLS_NONE", "None"),
    ("starttls", "SMTP_CLIENT_TLS_STARTTLS", "StartTls"),
    ("implicit", "SMTP_CLIENT_TLS_IMPLICIT", "Implicit"),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let kconfig = Kconfig::read(&root.join("Kconfig"));
    let config = BuildConfig::load(&kconfig);
    fs::write(out.join("build_config.rs"), config.rust(&kconfig)).expect("write build_config.rs");
    fs::write(out.join("kconfig_defaults.rs"), kconfig.rust_defaults()).expect("write kconfig_defaults.rs");
    // The POSIX twin is for hosts: never in a Zephyr build (which names its .config), whatever
    // the triple zephyr-lang-rust maps the board to.
    #[cfg(feature = "zsock")]
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none") && env::var_os("DOTCONFIG").is_none() {
        build_posix_shim(&root, &out, &config);
    }
}

// ---- Kconfig ----------------------------------------------------------------------------------

/// The `default` and `range` of each symbol of the module's Kconfig, and each choice's members.
struct Kconfig {
    defaults: BTreeMap<String, String>,
    ranges: BTreeMap<String, (u64, u64)>,
    choices: BTreeMap<String, Vec<String>>,
}

/// Kconfig switches that are also cargo features of this crate: (symbol, feature). A Zephyr
/// build's `.config` and the features it builds with must agree (the C library's CMake passes
/// them; a Rust application names them in its Cargo.toml): the feature `oauth2` changes the C
/// layout of `NX_SMTP_CLIENT`, `mime` declares `nx_smtp_mail_send_extended`, `outbox` links the
/// shim's outbox storage (`smtp_shim_outbox_*`).
const KCONFIG_FEATURES: &[(&str, &str)] =
    &[("SMTP_CLIENT_AUTH_OAUTH2", "oauth2"), ("SMTP_CLIENT_ATTACHMENTS", "mime"), ("SMTP_CLIENT_OUTBOX", "outbox")];

/// Stops a Zephyr build whose cargo features and `.config` disagree, naming the fix.
fn features_match_kconfig(dotconfig: &BTreeMap<String, String>) {
    for (symbol, feature) in KCONFIG_FEATURES {
        let kconfig = dotconfig.get(*symbol).map(String::as_str) == Some("y");
        let cargo = env::var_os(format!("CARGO_FEATURE_{}", feature.to_uppercase())).is_some();
        if kconfig != cargo {
            panic!(
                "CONFIG_{symbol} is {} but zsmtp's cargo feature `{feature}` is {}: {} the feature in the \
                 application's Cargo.toml (the module's C library does this itself), or change the Kconfig option",
                if kconfig { "y" } else { "n" },
                if cargo { "on" } else { "off" },
                if kconfig { "enable" } else { "disable" },
            );
        }
    }
}

impl Kconfig {
    /// `kconfig_defaults.rs`: Kconfig's own default timeouts, which `session::Timeouts::DEFAULT`
    /// `include!`s (the library's defaults whatever a build configures).
    fn rust_defaults(&self) -> String {
        let mut f = String::from("// @generated by build.rs from the module's Kconfig.\n");
        for name in ["CONNECT", "GREETING", "REPLY", "SEND", "FINAL_REPLY", "TOTAL"] {
            let symbol = format!("SMTP_CLIENT_{name}_TIMEOUT_MS");
            let value = self.defaults.get(&symbol).unwrap_or_else(|| panic!("Kconfig gives CONFIG_{symbol} no default"));
            let value: u32 = value.parse().unwrap_or_else(|_| panic!("CONFIG_{symbol}'s default is not a number"));
            writeln!(f, "/// Kconfig's default of `CONFIG_{symbol}`.\npub(crate) const {name}_MS: u32 = {value};").unwrap();
        }
        f
    }

    /// Reads the unconditional `default` and `range` lines of each `config` and `choice` (help
    /// texts skipped). The file is Kconfig's own syntax; only these attributes are needed.
    fn read(path: &Path) -> Kconfig {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut k = Kconfig { defaults: BTreeMap::new(), ranges: BTreeMap::new(), choices: BTreeMap::new() };
        let (mut current, mut choice, mut in_help) = (None::<String>, None::<String>, false);
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let Some(&first) = words.first() else { continue };
            if !line.starts_with(char::is_whitespace) {
                in_help = false;
                current = None;
                match (first, words.get(1)) {
                    ("config" | "menuconfig", Some(name)) => {
                        current = Some(name.to_string());
                        if let Some(c) = &choice {
                            k.choices.entry(c.clone()).or_default().push(name.to_string());
                        }
                    }
                    ("choice", Some(name)) => {
                        current = Some(name.to_string());
                        choice = current.clone();
                    }
                    ("endchoice", _) => choice = None,
                    _ => {}
                }
                continue;
            }
            if in_help || first.starts_with('#') {
                continue;
            }
            let Some(symbol) = &current else { continue };
            match (first, words.contains(&"if")) {
                ("help" | "---help---", _) => in_help = true,
                ("default", false) => {
                    let value = line.trim().strip_prefix("default").unwrap().trim();
                    k.defaults.entry(symbol.clone()).or_insert_with(|| unquote(value));
                }
                ("range", false) if words.len() == 3 => {
                    if let (Ok(lo), Ok(hi)) = (words[1].parse(), words[2].parse()) {
                        k.ranges.insert(symbol.clone(), (lo, hi));
                    }
                }
                _ => {}
            }
        }
        k
    }
}

/// A Kconfig or `.config` string value without its quotes and escapes.
fn unquote(value: &str) -> String {
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => value.to_string(),
    }
}

// ---- The configuration ------------------------------------------------------------------------

/// Every setting's value, as text: a decimal number, `y`/`n`, a string, or a choice's member.
struct BuildConfig {
    values: BTreeMap<&'static str, String>,
}

impl BuildConfig {
    /// Reads `DOTCONFIG` (once) and the `ZSMTP_*` overrides; checks every value.
    fn load(kconfig: &Kconfig) -> BuildConfig {
        println!("cargo:rerun-if-env-changed=DOTCONFIG");
        let dotconfig = env::var_os("DOTCONFIG").map(|path| {
            let path = PathBuf::from(path);
            println!("cargo:rerun-if-changed={}", path.display());
            let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("DOTCONFIG {}: {e}", path.display()));
            text.lines()
                .filter_map(|l| l.strip_prefix("CONFIG_")?.split_once('='))
                .map(|(k, v)| (k.to_string(), unquote(v.trim())))
                .collect::<BTreeMap<String, String>>()
        });
        if let Some(d) = &dotconfig {
            features_match_kconfig(d);
        }
        let host = env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("none");
        let default = |symbol: &str| -> Option<String> {
            let host_default = HOST_DEFAULTS.iter().find(|(s, _)| *s == symbol).filter(|_| host);
            host_default
                .map(|(_, v)| v.to_string())
                .or_else(|| kconfig.defaults.get(symbol).cloned())
                .or_else(|| FALLBACKS.iter().find(|(s, _)| *s == symbol).map(|(_, v)| v.to_string()))
        };
        let mut values = BTreeMap::new();
        for s in SETTINGS {
            let members = kconfig.choices.get(s.symbol).map(Vec::as_slice).unwrap_or_default();
            let from_dotconfig = dotconfig.as_ref().and_then(|d| match s.kind {
                // In a .config, an unset bool reads `# CONFIG_X is not set`: n.
                Kind::Bool => Some(if d.get(s.symbol).map(String::as_str) == Some("y") { "y" } else { "n" }.to_string()),
                Kind::Choice => members.iter().find(|m| d.get(m.as_str()).map(String::as_str) == Some("y")).cloned(),
                Kind::Int | Kind::Str => d.get(s.symbol).cloned(),
            });
            let from_env = s.env.and_then(|var| {
                println!("cargo:rerun-if-env-changed={var}");
                env::var(var).ok().map(|v| from_variable(s, var, &v))
            });
            let value = from_env
                .or(from_dotconfig)
                .or_else(|| default(s.symbol))
                .or_else(|| (s.kind == Kind::Bool).then(|| "n".to_string()))
                .unwrap_or_else(|| panic!("Kconfig gives CONFIG_{} no default", s.symbol));
            check(s, &value, kconfig, members);
            values.insert(s.symbol, value);
        }
        BuildConfig { values }
    }

    fn get(&self, symbol: &str) -> &str {
        self.values.get(symbol).unwrap_or_else(|| panic!("{symbol} is not in SETTINGS"))
    }

    fn number(&self, symbol: &str) -> u64 {
        self.get(symbol).parse().expect("checked when loaded")
    }

    fn flag(&self, symbol: &str) -> bool {
        self.get(symbol) == "y"
    }

    /// `build_config.rs`: the constants `src/limits.rs` includes.
    fn rust(&self, kconfig: &Kconfig) -> String {
        let mut f = String::from(
            "// @generated by build.rs from Kconfig's defaults, DOTCONFIG and the ZSMTP_* variables.\n",
        );
        let limits = [
            ("MAX_USERNAME", "`NX_SMTP_CLIENT_MAX_USERNAME`: longest user name (NetX: 40)."),
            ("MAX_PASSWORD", "`NX_SMTP_CLIENT_MAX_PASSWORD`: longest password (NetX: 20; relay API keys are 69+)."),
            ("MAX_DOMAIN", "`NX_SMTP_CLIENT_MAX_DOMAIN`: longest EHLO name (RFC 5321 4.5.3.1.2: 255 octets)."),
            (
                "MAX_ADDRESS",
                "`NX_SMTP_CLIENT_MAX_ADDRESS`: longest address, brackets included (RFC 5321 4.5.3.1.3: \
                 a path is at most 256 octets).",
            ),
            ("MAX_REPLY_TEXT", "`NX_SMTP_CLIENT_MAX_REPLY_TEXT`: text kept of the last decisive reply."),
            ("RX_BUFFER_SIZE", "`NX_SMTP_CLIENT_RX_BUFFER_SIZE`."),
            ("TX_BUFFER_SIZE", "`NX_SMTP_CLIENT_TX_BUFFER_SIZE`."),
            ("LOCK_WORDS", "`NX_SMTP_CLIENT_LOCK_WORDS`: lock storage in `ULONG` words."),
            ("OAUTH2_TOKEN_MAX", "`NX_SMTP_CLIENT_OAUTH2_TOKEN_MAX`: longest OAuth 2.0 token the C API stores (feature `oauth2`)."),
            ("OUTBOX_SLOTS", "`NX_SMTP_OUTBOX_SLOTS`: mails the C API's outbox holds (feature `outbox`)."),
            ("OUTBOX_RECORD_MAX", "`NX_SMTP_OUTBOX_RECORD_MAX`: the C API's outbox records' largest size in bytes."),
            ("OUTBOX_TEXT_MAX", "`NX_SMTP_OUTBOX_TEXT_MAX`: the largest text of a mail the C API queues."),
            ("OUTBOX_WORKER_WORDS", "`NX_SMTP_OUTBOX_WORKER_WORDS`: the platform worker's state in `ULONG` words."),
            ("OUTBOX_RETRY_FIRST_MS", "The C API outbox's first retry wait (ms)."),
            ("OUTBOX_RETRY_MAX_MS", "The C API outbox's longest retry wait (ms)."),
            ("LOG_LEVEL", "`CONFIG_SMTP_CLIENT_LOG_LEVEL` (Zephyr's numbers: 0 off .. 4 DBG); see [`LOG_DIALOGUE`]."),
        ];
        for (name, doc) in limits {
            let symbol = format!("SMTP_CLIENT_{name}");
            writeln!(f, "/// {doc} Kconfig `CONFIG_{symbol}`, `ZSMTP_{name}`.").unwrap();
            writeln!(f, "pub const {name}: usize = {};", self.number(&symbol)).unwrap();
        }
        let ms = |name: &str| self.number(&format!("SMTP_CLIENT_{name}_TIMEOUT_MS"));
        writeln!(
            f,
            "/// The timeouts of the C API's small profile (feature `small`), fixed at build time: \
             Kconfig `CONFIG_SMTP_CLIENT_*_TIMEOUT_MS`, `ZSMTP_*_TIMEOUT_MS`. The settings subsystem \
             does not change them (the full profile reads it).\n\
             pub const SMALL_TIMEOUTS: crate::session::Timeouts = crate::session::Timeouts {{ connect_ms: {}, \
             greeting_ms: {}, reply_ms: {}, send_ms: {}, final_reply_ms: {}, total_ms: 0 }};",
            ms("CONNECT"),
            ms("GREETING"),
            ms("REPLY"),
            ms("SEND"),
            ms("FINAL_REPLY"),
        )
        .unwrap();
        writeln!(
            f,
            "/// Whether the C API and the Zephyr configuration may send credentials over a connection \
             that is not encrypted: Kconfig `CONFIG_SMTP_CLIENT_ALLOW_PLAINTEXT_AUTH` (default n; host \
             builds: yes), `ZSMTP_ALLOW_PLAINTEXT_AUTH` (0 or 1).\n\
             pub const ALLOW_PLAINTEXT_AUTH: bool = {};",
            self.flag("SMTP_CLIENT_ALLOW_PLAINTEXT_AUTH")
        )
        .unwrap();
        let tls = TLS_MODES.iter().find(|(_, m, _)| *m == self.get("SMTP_CLIENT_TLS")).expect("checked").2;
        writeln!(
            f,
            "/// The transport security of the module's configuration (`ShimConfig`) and the initial mode \
             of C API clients (`nx_smtp_client_tls_set` changes it per client): Kconfig choice \
             `SMTP_CLIENT_TLS`, `ZSMTP_TLS_MODE` (none, starttls, implicit).\n\
             pub const TLS_MODE: crate::session::TlsMode = crate::session::TlsMode::{tls};"
        )
        .unwrap();
        // Kconfig's own defaults, for the tests that keep include/nxd_smtp_client.h's fallbacks
        // and Timeouts::DEFAULT equal to them.
        f.push_str("/// Kconfig's defaults (symbol without `CONFIG_`, value), before any override.\n");
        f.push_str("#[cfg(test)]\npub(crate) const KCONFIG_DEFAULTS: &[(&str, &str)] = &[\n");
        for (symbol, value) in &kconfig.defaults {
            writeln!(f, "    ({symbol:?}, {value:?}),").unwrap();
        }
        f.push_str("];\n");
        f
    }

    /// The twin's `-D CONFIG_SMTP_CLIENT_*`: the Kconfig symbols the Zephyr shim is compiled with.
    #[cfg_attr(not(feature = "zsock"), allow(dead_code))]
    fn c_defines(&self) -> Vec<(String, String)> {
        let mut defines = Vec::new();
        for s in SETTINGS {
            let value = self.get(s.symbol);
            match s.kind {
                Kind::Int => defines.push((format!("CONFIG_{}", s.symbol), value.to_string())),
                Kind::Str => defines.push((format!("CONFIG_{}", s.symbol), c_string(value))),
                Kind::Bool if value == "y" => defines.push((format!("CONFIG_{}", s.symbol), "1".into())),
                Kind::Choice => defines.push((format!("CONFIG_{value}"), "1".into())),
                Kind::Bool => {}
            }
        }
        defines
    }
}

/// A `ZSMTP_*` value in Kconfig's terms.
fn from_variable(s: &Setting, var: &str, value: &str) -> String {
    match s.kind {
        Kind::Bool => match value {
            "1" => "y".into(),
            "0" => "n".into(),
            _ => panic!("{var} must be 0 or 1, not {value:?}"),
        },
        Kind::Choice => match TLS_MODES.iter().find(|(name, _, _)| *name == value) {
            Some((_, member, _)) => member.to_string(),
            None => panic!("{var} must be none, starttls or implicit, not {value:?}"),
        },
        Kind::Int | Kind::Str => value.to_string(),
    }
}

/// Stops the build on a value Kconfig would not accept.
fn check(s: &Setting, value: &str, kconfig: &Kconfig, members: &[String]) {
    let from = match s.env {
        Some(var) => format!("{var} (or CONFIG_{})", s.symbol),
        None => format!("CONFIG_{}", s.symbol),
    };
    match s.kind {
        Kind::Int => {
            let n: u64 = match value.parse() {
                Ok(n) if value.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => panic!("{from} must be a decimal number, not {value:?}"),
            };
            if let Some(&(lo, hi)) = kconfig.ranges.get(s.symbol) {
                assert!((lo..=hi).contains(&n), "{from} must be in {lo}..={hi} (Kconfig's range), not {n}");
            }
        }
        Kind::Bool => assert!(value == "y" || value == "n", "{from} must be y or n, not {value:?}"),
        Kind::Choice => assert!(members.iter().any(|m| m == value), "{from}: {value} is not one of {members:?}"),
        Kind::Str => {}
    }
}

/// A C string literal.
#[cfg_attr(not(feature = "zsock"), allow(dead_code))]
fn c_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 => write!(out, "\\{:03o}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---- The POSIX twin of the Zephyr shim ----------------------------------------------------------

#[cfg(feature = "zsock")]
fn build_posix_shim(root: &Path, out: &Path, config: &BuildConfig) {
    println!("cargo:rerun-if-changed={}", root.join("shim").display());
    println!("cargo:rerun-if-env-changed=ZSMTP_SHIM_TLS");
    let tls = match env::var("ZSMTP_SHIM_TLS").as_deref() {
        Ok("0") => false,
        Ok("1") | Err(_) => true,
        Ok(other) => panic!("ZSMTP_SHIM_TLS must be 0 or 1, not {other:?}"),
    };
    let mbedtls = if tls { Some(find_mbedtls(out)) } else { None };

    let mut build = cc::Build::new();
    build
        .std("c11")
        .warnings(true)
        .extra_warnings(true)
        .include(root.join("shim/include"))
        .include(root.join("shim/common"))
        .include(root.join("shim/posix"))
        .define("_DEFAULT_SOURCE", "1")
        .define("_POSIX_C_SOURCE", "200809L")
        .define("_DARWIN_C_SOURCE", "1")
        .file(root.join("shim/posix/smtp_shim_posix.c"))
        .file(root.join("shim/common/smtp_shim_sockets.c"))
        .file(root.join("shim/common/smtp_shim_errors.c"))
        .file(root.join("shim/common/smtp_config_store.c"));
    // The outbox's storage (smtp_shim_outbox_*): a directory of files, for ShimStorage's tests.
    #[cfg(feature = "outbox")]
    build.file(root.join("shim/posix/smtp_outbox_file.c"));
    #[cfg(feature = "outbox")]
    build.file(root.join("shim/posix/smtp_outbox_worker.c"));
    for (name, value) in config.c_defines() {
        build.define(&name, value.as_str());
    }
    match &mbedtls {
        Some(m) => {
            build.file(root.join("shim/common/smtp_shim_tls_mbedtls.c"));
            if let Some(prefix) = &m.prefix {
                build.include(prefix.join("include"));
            }
        }
        None => {
            build.define("SMTP_SHIM_NO_TLS", None);
        }
    }
    build.compile("smtp_shim_posix");

    if let Some(mbedtls) = &mbedtls {
        let kind = match &mbedtls.prefix {
            Some(prefix) => {
                println!("cargo:rustc-link-search=native={}", prefix.join("lib").display());
                "static="
            }
            None => "",
        };
        // Order matters for static linkers: the TLS layer before X.509 before the crypto.
        let crypto = if mbedtls.version >= 0x0400_0000 { "tfpsacrypto" } else { "mbedcrypto" };
        for lib in ["mbedtls", "mbedx509", crypto] {
            println!("cargo:rustc-link-lib={kind}{lib}");
        }
        println!("cargo:rustc-link-lib=pthread");
    }
}

/// The mbedTLS the twin's TLS is built against.
#[cfg(feature = "zsock")]
struct Mbedtls {
    /// Installation prefix (`include/`, `lib/`); `None` for the system's.
    prefix: Option<PathBuf>,
    /// `MBEDTLS_VERSION_NUMBER`.
    version: u32,
}

/// `ZSMTP_MBEDTLS_DIR`, else `~/.cache/zsmtp-mbedtls-3.6.0` if it exists, else the system's
/// headers; fails the build early, with the fix, when they are missing or older than 3.6.
#[cfg(feature = "zsock")]
fn find_mbedtls(out: &Path) -> Mbedtls {
    println!("cargo:rerun-if-env-changed=ZSMTP_MBEDTLS_DIR");
    let default = env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/zsmtp-mbedtls-3.6.0"));
    let prefix = match env::var_os("ZSMTP_MBEDTLS_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => default.filter(|dir| dir.join("include/mbedtls/build_info.h").is_file()),
    };
    if let Some(prefix) = &prefix {
        println!("cargo:rerun-if-changed={}", prefix.join("include/mbedtls/build_info.h").display());
    }
    // The preprocessor prints the version where the probe says ZSMTP_MBEDTLS_VERSION.
    let probe = out.join("mbedtls_probe.c");
    fs::write(&probe, "#include <mbedtls/build_info.h>\nZSMTP_MBEDTLS_VERSION MBEDTLS_VERSION_NUMBER\n")
        .expect("write the mbedTLS probe");
    let mut build = cc::Build::new();
    build.file(&probe).cargo_warnings(false);
    if let Some(prefix) = &prefix {
        build.include(prefix.join("include"));
    }
    let version = build.try_expand().ok().and_then(|text| {
        let text = String::from_utf8_lossy(&text).into_owned();
        let line = text.lines().find_map(|l| l.strip_prefix("ZSMTP_MBEDTLS_VERSION "))?.trim().to_string();
        u32::from_str_radix(line.trim_start_matches("0x").trim_end_matches(['u', 'U', 'l', 'L']), 16).ok()
    });
    let where_ = prefix.as_ref().map_or("the system's include path".to_string(), |p| p.display().to_string());
    match version {
        Some(version) if version >= 0x0306_0000 => Mbedtls { prefix, version },
        found => panic!(
            "feature `zsock` builds the shim's POSIX twin with TLS over mbedTLS 3.6 or 4.x, but {where_} has \
             {}: run scripts/mbedtls-host (builds 3.6.0 into ~/.cache/zsmtp-mbedtls-3.6.0, where this build \
             finds it) or set ZSMTP_MBEDTLS_DIR to an installed mbedTLS 3.6/4.x, or set ZSMTP_SHIM_TLS=0 \
             to build the twin without TLS",
            found.map_or("no mbedTLS headers".to_string(), |v| format!("mbedTLS 0x{v:08x}"))
        ),
    }
}
