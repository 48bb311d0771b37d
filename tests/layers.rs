//! The layering of docs/ARCHITECTURE.md, checked on the source: each layer imports only the
//! layers below it.
//!
//! `wire ← session ← client ← {capi, platform, outbox}`, with `transport ← session`; `error` is the
//! vocabulary of session and client and sits on `wire` and `transport`; `limits` is the
//! generated build configuration the layers above `wire` and `transport` may read. `sys` (the shim's raw functions and
//! their safe wrappers) is a leaf under `transport` and `platform`; `capi` may use `platform`,
//! not the other way round.

use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir` (or the file itself).
fn sources(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut files = Vec::new();
    for entry in fs::read_dir(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
        let p = entry.unwrap().path();
        if p.is_dir() {
            files.extend(sources(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            files.push(p);
        }
    }
    files
}

/// The top-level modules a source names through `crate::` (or `$crate::`), with the line.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            // `crate::{a, b}` names several.
            if name.is_empty() && after.starts_with('{') {
                let inner = &after[1..after.find('}').unwrap_or(after.len())];
                for part in inner.split(',') {
                    let m: String = part.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    found.push((n + 1, m));
                }
            } else {
                found.push((n + 1, name));
            }
            rest = after;
        }
        if code.contains("super::super") {
            found.push((n + 1, "super::super".into()));
        }
    }
    found
}

/// The imports of `layer` (a directory or file under src/) that name a module outside
/// `allowed`, as "file:line: crate::module".
fn violations(layer: &str, allowed: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut bad = Vec::new();
    for file in sources(&root.join(layer)) {
        let text = fs::read_to_string(&file).unwrap();
        for (line, module) in crate_paths(&text) {
            if !allowed.contains(&module.as_str()) {
                bad.push(format!("{}:{line}: crate::{module}", file.strip_prefix(&root).unwrap().display()));
            }
        }
    }
    bad
}

#[test]
fn wire_is_a_leaf() {
    assert_eq!(violations("wire", &["wire"]), Vec::<String>::new());
}

#[test]
fn session_stays_below_client() {
    assert_eq!(violations("session", &["session", "wire", "error", "transport", "limits"]), Vec::<String>::new());
}

#[test]
fn errors_stay_below_session() {
    assert_eq!(violations("error.rs", &["wire", "transport"]), Vec::<String>::new());
}

#[test]
fn client_stays_below_capi_and_platform() {
    assert_eq!(violations("client.rs", &["session", "wire", "error", "transport", "limits"]), Vec::<String>::new());
}

#[test]
fn sys_is_a_leaf() {
    assert_eq!(violations("sys", &["sys"]), Vec::<String>::new());
}

#[test]
fn transports_stay_below_session() {
    assert_eq!(violations("transport", &["transport", "sys"]), Vec::<String>::new());
}

#[test]
fn platform_stays_beside_capi() {
    // `outbox`: the `Storage` trait that `ShimStorage` implements.
    let below = ["platform", "client", "session", "wire", "error", "transport", "limits", "sys", "outbox"];
    assert_eq!(violations("platform", &below), Vec::<String>::new());
}

#[test]
fn the_outbox_stays_beside_platform() {
    // Above the client (it delivers through a `Connection`), never under capi or platform.
    let below = ["outbox", "client", "session", "wire", "error", "transport"];
    assert_eq!(violations("outbox", &below), Vec::<String>::new());
}

#[test]
fn the_build_configuration_names_only_session_vocabulary() {
    // limits.rs includes the generated build_config.rs: typed constants whose types
    // (Timeouts, TlsMode) are the engine's.
    assert_eq!(violations("limits.rs", &["limits", "session"]), Vec::<String>::new());
}

#[test]
fn the_checker_sees_each_form_of_import() {
    let found = crate_paths("use crate::client::Config;\nuse crate::{session, wire::out};\n$crate::limits::X\n// crate::capi\nuse super::super::x;");
    let names: Vec<&str> = found.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(names, ["client", "session", "wire", "limits", "super::super"]);
}
