//! Build script of zsmtp.
//!
//! 1. Buffer and field limits of the C API. They come from Kconfig on Zephyr: the Zephyr build
//!    (zephyr-lang-rust's `rust_cargo_application()`, and this module's CMakeLists.txt for
//!    pure-C applications) passes `DOTCONFIG`, the path of the generated `.config`. Each limit is
//!    forwarded to the compiler as `ZSMTP_*` (read with `option_env!`): an explicit `ZSMTP_*`
//!    environment variable wins, else `CONFIG_SMTP_CLIENT_*` from `DOTCONFIG`, else nothing (the
//!    code's own defaults apply).
//! 2. With the `zsock` feature on a target that has an operating system (host tests, tools),
//!    the POSIX twin of the Zephyr socket shim (`shim/posix/smtp_shim_posix.c`) is compiled and
//!    linked, so the Zephyr transport runs on the host against real servers. On bare-metal
//!    targets (`target_os = "none"`, i.e. Zephyr) nothing is compiled: the Zephyr module links
//!    `shim/zephyr/*.c` into the image.
//!    The twin's TLS (`shim/common/smtp_shim_tls_mbedtls.h`, the TLS code of the Zephyr shim)
//!    is built against mbedTLS 3.6 or 4.x installed under `ZSMTP_MBEDTLS_DIR` (`include/`,
//!    `lib/`; default `~/.cache/zsmtp-mbedtls-3.6.0`, where `scripts/mbedtls-host` builds 3.6.0),
//!    else against the system's headers if they are 3.6 or newer, and links its static libraries:
//!    `mbedtls`, `mbedx509` and `mbedcrypto` (3.6) or `tfpsacrypto` (4.x). A C program linking
//!    the host static library built with `zsock` adds the same (`-L$ZSMTP_MBEDTLS_DIR/lib`).
//!    `ZSMTP_SHIM_TLS=0` builds the twin without TLS instead (every TLS call then fails as
//!    unsupported).
//! 3. The default TLS mode of the Zephyr configuration and the C API: the Kconfig choice
//!    `SMTP_CLIENT_TLS` (`CONFIG_SMTP_CLIENT_TLS_STARTTLS=y`, `CONFIG_SMTP_CLIENT_TLS_IMPLICIT=y`,
//!    else none), or `ZSMTP_TLS_MODE` = none, starttls or implicit, forwarded as `ZSMTP_TLS_MODE`.
//!
//! 4. The compile-time log level, `CONFIG_SMTP_CLIENT_LOG_LEVEL` (or `ZSMTP_LOG_LEVEL`): below
//!    4 (DBG) the dialogue log is not compiled at all (no formatting code in the image).
//!
//! Only `std` is used: no build-dependency.

use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

/// (environment variable read by the code, Kconfig symbol it comes from)
const LIMITS: &[(&str, &str)] = &[
    ("ZSMTP_MAX_USERNAME", "CONFIG_SMTP_CLIENT_MAX_USERNAME"),
    ("ZSMTP_MAX_PASSWORD", "CONFIG_SMTP_CLIENT_MAX_PASSWORD"),
    ("ZSMTP_MAX_DOMAIN", "CONFIG_SMTP_CLIENT_MAX_DOMAIN"),
    ("ZSMTP_MAX_ADDRESS", "CONFIG_SMTP_CLIENT_MAX_ADDRESS"),
    ("ZSMTP_RX_BUFFER_SIZE", "CONFIG_SMTP_CLIENT_RX_BUFFER_SIZE"),
    ("ZSMTP_TX_BUFFER_SIZE", "CONFIG_SMTP_CLIENT_TX_BUFFER_SIZE"),
    ("ZSMTP_MAX_REPLY_TEXT", "CONFIG_SMTP_CLIENT_MAX_REPLY_TEXT"),
    ("ZSMTP_LOCK_WORDS", "CONFIG_SMTP_CLIENT_LOCK_WORDS"),
    // Zephyr's level numbers (0 off, 1 ERR, 2 WRN, 3 INF, 4 DBG), from the log template.
    ("ZSMTP_LOG_LEVEL", "CONFIG_SMTP_CLIENT_LOG_LEVEL"),
    // The timeouts the C API's small profile (feature `tiny`) is built with.
    ("ZSMTP_CONNECT_TIMEOUT_MS", "CONFIG_SMTP_CLIENT_CONNECT_TIMEOUT_MS"),
    ("ZSMTP_GREETING_TIMEOUT_MS", "CONFIG_SMTP_CLIENT_GREETING_TIMEOUT_MS"),
    ("ZSMTP_REPLY_TIMEOUT_MS", "CONFIG_SMTP_CLIENT_REPLY_TIMEOUT_MS"),
    ("ZSMTP_SEND_TIMEOUT_MS", "CONFIG_SMTP_CLIENT_SEND_TIMEOUT_MS"),
    ("ZSMTP_FINAL_REPLY_TIMEOUT_MS", "CONFIG_SMTP_CLIENT_FINAL_REPLY_TIMEOUT_MS"),
];

/// (environment variable read by the code, Kconfig bool it comes from): "1" or "0".
const SWITCHES: &[(&str, &str)] = &[("ZSMTP_ALLOW_PLAINTEXT_AUTH", "CONFIG_SMTP_CLIENT_ALLOW_PLAINTEXT_AUTH")];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    forward_limits();
    forward_switches();
    forward_tls_mode();
    if env::var_os("CARGO_FEATURE_ZSOCK").is_some() {
        build_posix_shim();
    }
}

/// Reads `CONFIG_X=value` lines of a Kconfig `.config` file.
fn dotconfig_value(text: &str, symbol: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(symbol)?.strip_prefix('=')?;
        Some(rest.trim().trim_matches('"').to_string())
    })
}

fn forward_limits() {
    println!("cargo:rerun-if-env-changed=DOTCONFIG");
    let dotconfig = env::var_os("DOTCONFIG").map(PathBuf::from);
    let text = match &dotconfig {
        Some(path) => {
            println!("cargo:rerun-if-changed={}", path.display());
            fs::read_to_string(path).unwrap_or_default()
        }
        None => String::new(),
    };
    for (var, symbol) in LIMITS {
        println!("cargo:rerun-if-env-changed={var}");
        let value = env::var(var).ok().or_else(|| dotconfig_value(&text, symbol));
        if let Some(value) = value {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                panic!("{var} (or {symbol}) must be a decimal number, not {value:?}");
            }
            println!("cargo:rustc-env={var}={value}");
        }
    }
}

/// Kconfig bools: `CONFIG_X=y` is "1"; an unset bool in a `.config` is "0"; without a
/// `.config` (host builds) the code's own default applies. An explicit variable wins.
fn forward_switches() {
    let text = env::var_os("DOTCONFIG").map(|p| fs::read_to_string(p).unwrap_or_default());
    for (var, symbol) in SWITCHES {
        println!("cargo:rerun-if-env-changed={var}");
        let value = env::var(var).ok().or_else(|| {
            text.as_ref().map(|t| if dotconfig_value(t, symbol).as_deref() == Some("y") { "1".into() } else { "0".into() })
        });
        if let Some(value) = value {
            if value != "0" && value != "1" {
                panic!("{var} must be 0 or 1, not {value:?}");
            }
            println!("cargo:rustc-env={var}={value}");
        }
    }
}

/// The Kconfig choice SMTP_CLIENT_TLS as "none" / "starttls" / "implicit" (`ZSMTP_TLS_MODE`).
/// Without a `.config` and without the variable nothing is forwarded (the code's default, none).
fn forward_tls_mode() {
    println!("cargo:rerun-if-env-changed=ZSMTP_TLS_MODE");
    let text = env::var_os("DOTCONFIG").map(|p| fs::read_to_string(p).unwrap_or_default());
    let value = env::var("ZSMTP_TLS_MODE").ok().or_else(|| {
        let text = text.as_ref()?;
        let set = |symbol: &str| dotconfig_value(text, symbol).as_deref() == Some("y");
        Some(
            if set("CONFIG_SMTP_CLIENT_TLS_STARTTLS") {
                "starttls"
            } else if set("CONFIG_SMTP_CLIENT_TLS_IMPLICIT") {
                "implicit"
            } else {
                "none"
            }
            .to_string(),
        )
    });
    if let Some(value) = value {
        if !matches!(value.as_str(), "none" | "starttls" | "implicit") {
            panic!("ZSMTP_TLS_MODE must be none, starttls or implicit, not {value:?}");
        }
        println!("cargo:rustc-env=ZSMTP_TLS_MODE={value}");
    }
}

fn build_posix_shim() {
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "none" {
        // Zephyr: the module's CMakeLists.txt compiles shim/zephyr into the image.
        return;
    }
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let sources = [
        root.join("shim/posix/smtp_shim_posix.c"),
        root.join("shim/common/smtp_config_store.h"),
        root.join("shim/common/smtp_shim_errors.h"),
        root.join("shim/common/smtp_shim_sockets.h"),
        root.join("shim/common/smtp_shim_tls_mbedtls.h"),
        root.join("shim/include/smtp_shim.h"),
    ];
    for file in &sources {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let target = env::var("TARGET").unwrap_or_default();
    let host = env::var("HOST").unwrap_or_default();
    let compiler = tool("CC", &target, &host, "cc");
    let archiver = tool("AR", &target, &host, "ar");

    println!("cargo:rerun-if-env-changed=ZSMTP_SHIM_TLS");
    let tls = match env::var("ZSMTP_SHIM_TLS").as_deref() {
        Ok("0") => false,
        Ok("1") | Err(_) => true,
        Ok(other) => panic!("ZSMTP_SHIM_TLS must be 0 or 1, not {other:?}"),
    };
    let mbedtls = if tls { Some(find_mbedtls(&compiler, &out)) } else { None };

    let object = out.join("smtp_shim_posix.o");
    let library = out.join("libsmtp_shim_posix.a");
    let mut compile = Command::new(&compiler);
    compile.args(["-std=c11", "-O2", "-fPIC", "-Wall", "-Wextra", "-c"]).arg("-I").arg(root.join("shim/include"));
    if !tls {
        compile.arg("-DSMTP_SHIM_NO_TLS");
    }
    if let Some(dir) = mbedtls.as_ref().and_then(|m| m.prefix.as_ref()) {
        compile.arg("-I").arg(dir.join("include"));
    }
    run(compile.arg(&sources[0]).arg("-o").arg(&object));
    let _ = fs::remove_file(&library);
    run(Command::new(&archiver).arg("crs").arg(&library).arg(&object));

    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static=smtp_shim_posix");
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
struct Mbedtls {
    /// Installation prefix (`include/`, `lib/`); `None` for the system's.
    prefix: Option<PathBuf>,
    /// `MBEDTLS_VERSION_NUMBER`.
    version: u32,
}

/// `ZSMTP_MBEDTLS_DIR`, else `~/.cache/zsmtp-mbedtls-3.6.0` if it exists, else the system's
/// headers; fails the build early, with the fix, when they are missing or older than 3.6.
fn find_mbedtls(compiler: &PathBuf, out: &std::path::Path) -> Mbedtls {
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
    let mut command = Command::new(compiler);
    if let Some(prefix) = &prefix {
        command.arg("-I").arg(prefix.join("include"));
    }
    let version = command
        .arg("-E")
        .arg(&probe)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
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

/// The C compiler or archiver: `CC_<target>` / `TARGET_CC` / `CC` (the cc crate's conventions),
/// else the plain host tool when building for the host.
fn tool(kind: &str, target: &str, host: &str, default: &str) -> PathBuf {
    let underscored = target.replace('-', "_");
    for var in [format!("{kind}_{target}"), format!("{kind}_{underscored}"), format!("TARGET_{kind}"), kind.to_string()] {
        println!("cargo:rerun-if-env-changed={var}");
        if let Some(value) = env::var_os(&var).filter(|v| !v.is_empty()) {
            return PathBuf::from(value);
        }
    }
    if target != host {
        panic!(
            "feature `zsock` on {target} needs a C toolchain for it: set CC_{underscored} and \
             AR_{underscored} (the POSIX socket shim is compiled for hosted targets only)"
        );
    }
    PathBuf::from(default)
}

fn run(command: &mut Command) {
    let shown = format!("{command:?}");
    match command.status() {
        Ok(status) if status.success() => {}
        Ok(status) => panic!("{shown} failed: {status}"),
        Err(e) => panic!("{shown} could not start: {e} (feature `zsock` needs a C compiler)"),
    }
}
