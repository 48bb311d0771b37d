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
//!    The twin's TLS (`shim/common/smtp_shim_tls_mbedtls.h`, the STARTTLS code of the Zephyr
//!    shim) is built against the host's mbedTLS (Debian: libmbedtls-dev) and links `mbedtls`,
//!    `mbedx509` and `mbedcrypto`; `ZSMTP_SHIM_TLS=0` builds the twin without TLS instead (every
//!    TLS call then fails as unsupported). A C program linking the host static library built
//!    with `zsock` adds `-lmbedtls -lmbedx509 -lmbedcrypto`. Another mbedTLS than the system's
//!    (2.28 and 3.x work): `ZSMTP_MBEDTLS_INCLUDE_DIR` (its `include/`) and
//!    `ZSMTP_MBEDTLS_LIB_DIR` (where its libraries are).
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
    println!("cargo:rerun-if-env-changed=ZSMTP_MBEDTLS_INCLUDE_DIR");
    println!("cargo:rerun-if-env-changed=ZSMTP_MBEDTLS_LIB_DIR");
    let mbedtls_include = env::var_os("ZSMTP_MBEDTLS_INCLUDE_DIR").filter(|v| !v.is_empty()).map(PathBuf::from);
    let mbedtls_lib = env::var_os("ZSMTP_MBEDTLS_LIB_DIR").filter(|v| !v.is_empty()).map(PathBuf::from);
    if tls {
        check_mbedtls(&compiler, &out, mbedtls_include.as_deref());
    }

    let object = out.join("smtp_shim_posix.o");
    let library = out.join("libsmtp_shim_posix.a");
    let mut compile = Command::new(&compiler);
    compile.args(["-std=c11", "-O2", "-fPIC", "-Wall", "-Wextra", "-c"]).arg("-I").arg(root.join("shim/include"));
    if !tls {
        compile.arg("-DSMTP_SHIM_NO_TLS");
    }
    if let (true, Some(dir)) = (tls, &mbedtls_include) {
        compile.arg("-I").arg(dir);
    }
    run(compile.arg(&sources[0]).arg("-o").arg(&object));
    let _ = fs::remove_file(&library);
    run(Command::new(&archiver).arg("crs").arg(&library).arg(&object));

    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static=smtp_shim_posix");
    if tls {
        if let Some(dir) = &mbedtls_lib {
            println!("cargo:rustc-link-search=native={}", dir.display());
        }
        // Order matters for static linkers: the TLS layer before X.509 before the crypto.
        for lib in ["mbedtls", "mbedx509", "mbedcrypto"] {
            println!("cargo:rustc-link-lib={lib}");
        }
    }
}

/// Fails the build early, with the fix, when the mbedTLS headers are missing.
fn check_mbedtls(compiler: &PathBuf, out: &std::path::Path, include: Option<&std::path::Path>) {
    let probe = out.join("mbedtls_probe.c");
    fs::write(&probe, "#include <mbedtls/ssl.h>\n#include <mbedtls/x509_crt.h>\nint zsmtp_probe;\n")
        .expect("write the mbedTLS probe");
    let mut command = Command::new(compiler);
    if let Some(dir) = include {
        command.arg("-I").arg(dir);
    }
    let status = command.arg("-fsyntax-only").arg(&probe).status();
    if !matches!(status, Ok(s) if s.success()) {
        panic!(
            "feature `zsock` builds the shim's POSIX twin with TLS over the host's mbedTLS, whose \
             headers were not found: install them (Debian/Ubuntu: apt-get install libmbedtls-dev; \
             scripts/servers/install-deps.sh does it), or set ZSMTP_SHIM_TLS=0 to build the twin \
             without TLS"
        );
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
