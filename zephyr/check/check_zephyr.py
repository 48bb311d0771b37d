#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Host-side checks of the Zephyr module that need Python (called by scripts/check-zephyr).

  kconfig OUT   parse Kconfig with kconfiglib (the Zephyr symbols it depends on stubbed), check the
                symbols the C, CMake, Rust and .conf files use, and write autoconf headers for
                the C syntax checks into OUT
  yaml          validate zephyr/module.yml, west.yml, sample.yaml and testcase.yaml against the
                keys that Zephyr's module schema (scripts/zephyr_module.py), west's manifest
                schema (src/west/manifest-schema.yml) and twister's testsuite schema
                (scripts/schemas/twister/testsuite-schema.yaml, v4.3) accept
  rustapps OUT  write, for each Zephyr Rust crate, a copy whose `zephyr` dependency is the local
                syntax-check stub (zephyr/check/stub-zephyr), so cargo can compile it on the host
                without ever resolving a crate named `zephyr` from a registry

Exit status 0 when every check passed; each failure is printed.
"""

from __future__ import annotations

import re
import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAILURES: list[str] = []


def fail(msg: str) -> None:
    FAILURES.append(msg)
    print(f"FAIL {msg}")


def ok(msg: str) -> None:
    print(f"ok   {msg}")


# ---------------------------------------------------------------------------------------------
# Kconfig
# ---------------------------------------------------------------------------------------------

# The symbols of Zephyr and zephyr-lang-rust that our Kconfig files name, stubbed as plain bools
# (their real definitions: subsys/net/Kconfig, subsys/net/lib/sockets/Kconfig, zephyr-lang-rust
# Kconfig, subsys/settings/Kconfig, subsys/shell/Kconfig, lib/posix/options/Kconfig.timer,
# subsys/logging/Kconfig).
STUBBED = ["NETWORKING", "NET_SOCKETS", "RUST", "RUST_SUPPORTED", "SETTINGS", "SHELL",
           "POSIX_TIMERS", "LOG",
           # TLS: modules/mbedtls/Kconfig, subsys/net/lib/tls_credentials/Kconfig,
           # subsys/net/lib/sockets/Kconfig
           "MBEDTLS", "TLS_CREDENTIALS", "NET_SOCKETS_SOCKOPT_TLS"]

KCONFIG_ZEPHYR_STUB = """\
# SYNTAX-CHECK STUB of Zephyr's Kconfig.zephyr: the symbols zsmtp's Kconfig depends on, then the
# module's Kconfig inside a menu, as Zephyr's generated Kconfig.modules includes it.
{stubs}
menu "zsmtp (module)"
osource "$(ZSMTP_KCONFIG)"
config ZEPHYR_ZSMTP_MODULE
	bool
	default y
endmenu
"""

LOG_TEMPLATE_STUB = """\
# SYNTAX-CHECK STUB of subsys/logging/Kconfig.template.log_config: the symbol it defines.
config $(module)_LOG_LEVEL
	int "$(module-str) log level"
	default 3
"""


def kconfig_tree(out: Path) -> Path:
    tree = out / "srctree"
    (tree / "subsys" / "logging").mkdir(parents=True, exist_ok=True)
    stubs = "".join(f"config {s}\n\tbool \"{s} (stub)\"\n" for s in STUBBED)
    (tree / "Kconfig.zephyr").write_text(KCONFIG_ZEPHYR_STUB.format(stubs=stubs))
    (tree / "subsys" / "logging" / "Kconfig.template.log_config").write_text(LOG_TEMPLATE_STUB)
    return tree


def load_kconfig(tree: Path, top: Path):
    import os

    import kconfiglib

    os.environ["srctree"] = str(tree)
    os.environ["ZSMTP_KCONFIG"] = str(ROOT / "Kconfig")
    kconf = kconfiglib.Kconfig(str(top), warn_to_stderr=False)
    for w in kconf.warnings:
        fail(f"kconfiglib warning in {top.name}: {w}")
    return kconf


def set_values(kconf, values: dict[str, str]) -> None:
    for name, value in values.items():
        sym = kconf.syms.get(name)
        if sym is None:
            fail(f"Kconfig: no symbol {name}")
            continue
        sym.set_value(value)
        if sym.str_value != value:
            fail(f"Kconfig: {name}={value} not taken (got {sym.str_value!r}; dependencies?)")


def used_symbols() -> dict[str, set[str]]:
    """CONFIG_SMTP_CLIENT_* (and sample) symbols named in the module's files, by file."""
    files = [*ROOT.glob("shim/zephyr/*.c"), ROOT / "CMakeLists.txt", ROOT / "build.rs",
             ROOT / "prj.conf", *ROOT.glob("boards/*.conf"), *ROOT.glob("samples/*/prj.conf"),
             *ROOT.glob("samples/*/src/*"), *ROOT.glob("tests/zephyr/*/prj.conf"),
             *ROOT.glob("tests/zephyr/*/testcase.yaml"), *ROOT.glob("samples/*/sample.yaml")]
    found: dict[str, set[str]] = {}
    for f in files:
        if not f.is_file():
            continue
        for m in re.finditer(r"CONFIG_((?:SMTP_CLIENT|SEND_MAIL|NETX_COMPAT)_[A-Z0-9_]+)",
                             f.read_text(errors="replace")):
            found.setdefault(m.group(1), set()).add(str(f.relative_to(ROOT)))
    return found


def check_kconfig(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tree = kconfig_tree(out)
    kconf = load_kconfig(tree, tree / "Kconfig.zephyr")
    smtp = kconf.syms["SMTP_CLIENT"]

    # Without its dependencies the client cannot be enabled.
    smtp.set_value("y")
    if smtp.str_value != "n":
        fail("Kconfig: SMTP_CLIENT enabled without NETWORKING/NET_SOCKETS/RUST")
    else:
        ok("Kconfig: SMTP_CLIENT needs NETWORKING, NET_SOCKETS and RUST")

    # The TLS choice cannot pick a mode whose Zephyr support is missing.
    kconf.unset_values()
    set_values(kconf, {"NETWORKING": "y", "NET_SOCKETS": "y", "RUST": "y", "SMTP_CLIENT": "y"})
    for mode in ("SMTP_CLIENT_TLS_STARTTLS", "SMTP_CLIENT_TLS_IMPLICIT"):
        kconf.syms[mode].set_value("y")
        if kconf.syms[mode].str_value == "y":
            fail(f"Kconfig: {mode} taken without MBEDTLS/TLS_CREDENTIALS/NET_SOCKETS_SOCKOPT_TLS")
    ok("Kconfig: the TLS modes need their Zephyr support")

    variants = {
        # everything, default mode STARTTLS (the shim's own mbedTLS client and TLS sockets)
        "full": {**{s: "y" for s in STUBBED}, "SMTP_CLIENT": "y", "SMTP_CLIENT_NETX_API": "y",
                 "SMTP_CLIENT_AUTH_LOGIN": "y", "SMTP_CLIENT_TLS_STARTTLS": "y"},
        "minimal": {"NETWORKING": "y", "NET_SOCKETS": "y", "RUST": "y", "SMTP_CLIENT": "y"},
        # implicit TLS through TLS sockets only, no STARTTLS code
        "implicit": {"NETWORKING": "y", "NET_SOCKETS": "y", "RUST": "y", "MBEDTLS": "y",
                     "TLS_CREDENTIALS": "y", "NET_SOCKETS_SOCKOPT_TLS": "y", "SMTP_CLIENT": "y",
                     "SMTP_CLIENT_TLS_IMPLICIT": "y"},
    }
    tls_expect = {"full": ("y", "1397511248"), "minimal": ("n", ""), "implicit": ("n", "1397511248")}
    for name, values in variants.items():
        kconf.unset_values()
        set_values(kconf, values)
        expect = {
            "SMTP_CLIENT_PORT": "25", "SMTP_CLIENT_MAX_USERNAME": "128",
            "SMTP_CLIENT_MAX_PASSWORD": "128", "SMTP_CLIENT_MAX_DOMAIN": "255",
            "SMTP_CLIENT_MAX_ADDRESS": "256", "SMTP_CLIENT_RX_BUFFER_SIZE": "512",
            "SMTP_CLIENT_TX_BUFFER_SIZE": "1024", "SMTP_CLIENT_LOCK_WORDS": "16",
            "SMTP_CLIENT_MAX_REPLY_TEXT": "128", "SMTP_CLIENT_LOG_LEVEL": "3",
        }
        for sym, value in expect.items():
            got = kconf.syms[sym].str_value
            if got != value:
                fail(f"Kconfig ({name}): {sym} defaults to {got!r}, expected {value}")
        mbed, tag = tls_expect[name]
        if kconf.syms["SMTP_CLIENT_TLS_MBEDTLS"].str_value != mbed:
            fail(f"Kconfig ({name}): SMTP_CLIENT_TLS_MBEDTLS is "
                 f"{kconf.syms['SMTP_CLIENT_TLS_MBEDTLS'].str_value}, expected {mbed}")
        if kconf.syms["SMTP_CLIENT_TLS_SEC_TAG"].str_value != tag:
            fail(f"Kconfig ({name}): SMTP_CLIENT_TLS_SEC_TAG is "
                 f"{kconf.syms['SMTP_CLIENT_TLS_SEC_TAG'].str_value!r}, expected {tag!r}")
        for opt in ("SMTP_CLIENT_SETTINGS", "SMTP_CLIENT_SHELL", "SMTP_CLIENT_WALL_CLOCK"):
            want = "y" if name == "full" else "n"
            if kconf.syms[opt].str_value != want:
                fail(f"Kconfig ({name}): {opt} is {kconf.syms[opt].str_value}, expected {want}")
        header = out / f"autoconf-{name}.h"
        kconf.write_autoconf(str(header))
        ok(f"Kconfig ({name}): defaults as documented; {header.name} written")

    # Every symbol the sources use must exist (a typo would silently read as unset).
    sample_syms: set[str] = set()
    for sample in sorted(ROOT.glob("samples/*/Kconfig")):
        skconf = load_kconfig(tree, sample)
        sample_syms |= set(skconf.syms)
        ok(f"Kconfig: {sample.relative_to(ROOT)} parses")
    for sym, where in sorted(used_symbols().items()):
        if sym not in kconf.syms and sym not in sample_syms:
            fail(f"Kconfig: CONFIG_{sym} used in {', '.join(sorted(where))} is not defined")
    ok("Kconfig: every CONFIG_SMTP_CLIENT_*/sample symbol used is defined")

    # The limits that reach the C header and Rust must be the same set.
    cmake = (ROOT / "CMakeLists.txt").read_text()
    build_rs = (ROOT / "build.rs").read_text()
    for sym in re.findall(r"NX_SMTP_CLIENT_\w+=\$\{CONFIG_(SMTP_CLIENT_\w+)\}", cmake):
        if f'"CONFIG_{sym}"' not in build_rs:
            fail(f"CONFIG_{sym} reaches the C header (CMakeLists.txt) but not Rust (build.rs)")
    ok("limits: the same Kconfig values reach the C header and the Rust build")


# ---------------------------------------------------------------------------------------------
# YAML schemas (the keys and types of the upstream schemas named in the module docstring)
# ---------------------------------------------------------------------------------------------

STR, BOOL, INT, ANY = str, bool, int, object
SEQ_STR = ("seq", str)

MODULE_SCHEMA = {
    "name": STR,
    "build": {
        "cmake": STR, "kconfig": STR, "cmake-ext": BOOL, "kconfig-ext": BOOL,
        "sysbuild-cmake": STR, "sysbuild-kconfig": STR, "sysbuild-cmake-ext": BOOL,
        "sysbuild-kconfig-ext": BOOL, "depends": SEQ_STR,
        "settings": {"board_root": STR, "dts_root": STR, "soc_root": STR, "arch_root": STR,
                     "module_ext_root": STR, "sca_root": STR, "snippet_root": STR},
    },
    "tests": SEQ_STR, "samples": SEQ_STR, "boards": SEQ_STR, "blobs": ("seq", dict),
    "security": ANY, "package-managers": ANY,
}

WEST_PROJECT = {"name": STR, "remote": STR, "repo-path": STR, "url": STR, "revision": STR,
                "path": STR, "submodules": ANY, "clone-depth": INT, "west-commands": STR,
                "import": ANY, "groups": ("seq", object), "userdata": ANY, "description": STR}
WEST_SCHEMA = {"manifest": {
    "version": STR, "defaults": {"remote": STR, "revision": STR},
    "remotes": ("seq", {"name": STR, "url-base": STR}), "projects": ("seq", WEST_PROJECT),
    "group-filter": ("seq", object),
    "self": {"path": STR, "west-commands": STR, "import": ANY, "userdata": ANY},
}}
WEST_IMPORT = {"file": STR, "name-allowlist": ANY, "path-allowlist": ANY,
               "name-blocklist": ANY, "path-blocklist": ANY, "path-prefix": STR}

HARNESS_CONFIG = {
    "shell_commands_file": STR, "shell_commands": ("seq", {"command": STR, "expected": STR}),
    "type": STR, "fixture": STR, "ordered": BOOL, "pytest_root": SEQ_STR,
    "pytest_args": SEQ_STR, "pytest_dut_scope": STR, "ctest_args": SEQ_STR, "regex": SEQ_STR,
    "robot_testsuite": ANY, "robot_option": ANY,
    "record": {"regex": SEQ_STR, "merge": BOOL, "as_json": SEQ_STR}, "bsim_exe_name": STR,
}
SCENARIO = {
    "arch_exclude": ANY, "arch_allow": ANY, "vendor_exclude": SEQ_STR, "vendor_allow": SEQ_STR,
    "testcases": SEQ_STR, "build_only": BOOL, "build_on_all": BOOL, "depends_on": ANY,
    "extra_args": ANY, "extra_configs": SEQ_STR, "extra_conf_files": SEQ_STR,
    "extra_overlay_confs": SEQ_STR, "extra_dtc_overlay_files": SEQ_STR, "extra_sections": ANY,
    "expect_reboot": BOOL, "run_sequential": BOOL, "required_snippets": SEQ_STR, "filter": STR,
    "levels": SEQ_STR, "integration_platforms": SEQ_STR, "integration_toolchains": SEQ_STR,
    "ignore_faults": BOOL, "ignore_qemu_crash": BOOL, "harness": STR,
    "harness_config": HARNESS_CONFIG, "min_ram": INT, "min_flash": INT, "modules": SEQ_STR,
    "platform_exclude": ANY, "platform_allow": ANY, "platform_type": SEQ_STR,
    "platform_key": SEQ_STR, "simulation_exclude": SEQ_STR, "tags": ANY, "timeout": INT,
    "toolchain_exclude": ANY, "toolchain_allow": ANY, "type": STR, "skip": BOOL, "slow": BOOL,
    "sysbuild": BOOL,
}
HARNESSES = {"console", "pytest", "shell", "ztest", "test", "robot", "ctest", "gtest",
             "bsim", "power", "display_capture", "net", "keyboard", "bluetooth", "pytest_hil"}


def validate(data, schema, where: str) -> None:
    if schema is ANY:
        return
    if isinstance(schema, dict):
        if not isinstance(data, dict):
            fail(f"{where}: expected a map, got {type(data).__name__}")
            return
        for key, value in data.items():
            if key not in schema:
                fail(f"{where}: unknown key {key!r}")
            else:
                validate(value, schema[key], f"{where}.{key}")
        return
    if isinstance(schema, tuple) and schema[0] == "seq":
        if not isinstance(data, list):
            fail(f"{where}: expected a sequence, got {type(data).__name__}")
            return
        for i, item in enumerate(data):
            validate(item, schema[1], f"{where}[{i}]")
        return
    if schema is STR and isinstance(data, (str, int, float)) and not isinstance(data, bool):
        return  # pykwalify's str/text accept scalars written as numbers (SHAs, versions)
    if schema is INT and isinstance(data, int) and not isinstance(data, bool):
        return
    if schema is BOOL and isinstance(data, bool):
        return
    if schema is dict and isinstance(data, dict):
        return
    if schema not in (STR, INT, BOOL, dict):
        return
    fail(f"{where}: expected {schema.__name__}, got {data!r}")


def load_yaml(path: Path):
    import yaml

    with path.open() as f:
        return yaml.safe_load(f)


def check_module_yml() -> None:
    path = ROOT / "zephyr" / "module.yml"
    data = load_yaml(path)
    validate(data, MODULE_SCHEMA, "zephyr/module.yml")
    build = data.get("build", {})
    if not (ROOT / build.get("cmake", "zephyr") / "CMakeLists.txt").is_file():
        fail("zephyr/module.yml: build.cmake has no CMakeLists.txt")
    if not (ROOT / build.get("kconfig", "zephyr/Kconfig")).is_file():
        fail("zephyr/module.yml: build.kconfig is not a file")
    for key in ("samples", "tests"):
        for p in data.get(key, []):
            if not (ROOT / p).is_dir():
                fail(f"zephyr/module.yml: {key} entry {p} is not a directory")
    if "lang-rust" not in build.get("depends", []):
        fail("zephyr/module.yml: must depend on lang-rust (zephyr-lang-rust's module name)")
    ok("zephyr/module.yml: keys, paths and lang-rust dependency")


def check_west_yml() -> None:
    data = load_yaml(ROOT / "west.yml")
    validate(data, WEST_SCHEMA, "west.yml")
    manifest = data.get("manifest", {})
    remotes = {r["name"] for r in manifest.get("remotes", [])}
    projects = {p["name"]: p for p in manifest.get("projects", [])}
    for p in projects.values():
        if "remote" in p and p["remote"] not in remotes:
            fail(f"west.yml: project {p['name']} names unknown remote {p['remote']}")
        if isinstance(p.get("import"), dict):
            validate(p["import"], WEST_IMPORT, f"west.yml:{p['name']}.import")
    zephyr = projects.get("zephyr", {})
    if not re.fullmatch(r"v4\.[34]\.\d+", str(zephyr.get("revision", ""))):
        fail("west.yml: zephyr must be pinned to a v4.3/v4.4 release tag")
    rust = projects.get("zephyr-lang-rust", {})
    if not re.fullmatch(r"[0-9a-f]{40}", str(rust.get("revision", ""))):
        fail("west.yml: zephyr-lang-rust must be pinned to a full commit")
    if rust.get("path") != "modules/lang/rust":
        fail("west.yml: zephyr-lang-rust belongs at modules/lang/rust")
    ok("west.yml: keys, remotes, pins")


def check_twister_yaml(path: Path) -> None:
    rel = path.relative_to(ROOT)
    data = load_yaml(path)
    schema = {"common": SCENARIO, "sample": {"name": STR, "description": STR},
              "tests": ANY}
    validate(data, schema, str(rel))
    if path.name == "sample.yaml" and "sample" not in data:
        fail(f"{rel}: a sample.yaml needs a sample: section")
    tests = data.get("tests")
    if not isinstance(tests, dict) or not tests:
        fail(f"{rel}: tests: must be a non-empty map")
        return
    common = data.get("common", {}) or {}
    for name, scenario in tests.items():
        scenario = scenario or {}
        if not re.search(r"[a-zA-Z0-9_]", name) or "/" in name:
            fail(f"{rel}: bad test name {name!r}")
        validate(scenario, SCENARIO, f"{rel}:tests.{name}")
        merged = {**common, **scenario}
        harness = merged.get("harness")
        if harness not in HARNESSES:
            fail(f"{rel}:{name}: harness {harness!r} is not a twister harness")
        if "CONFIG_RUST_SUPPORTED" not in str(merged.get("filter", "")):
            fail(f"{rel}:{name}: Rust applications filter on CONFIG_RUST_SUPPORTED")
        config = merged.get("harness_config", {}) or {}
        if harness == "console" and not config.get("regex"):
            fail(f"{rel}:{name}: console harness without regex")
        if harness == "pytest":
            for root in config.get("pytest_root", ["pytest"]):
                if not (path.parent / root).exists():
                    fail(f"{rel}:{name}: pytest_root {root} does not exist")
        allow = merged.get("platform_allow", [])
        allow = allow.split() if isinstance(allow, str) else allow
        if "native_sim/native/64" not in allow:
            fail(f"{rel}:{name}: must run on native_sim/native/64")
    ok(f"{rel}: twister keys, harness, filter, platforms")


def check_yaml() -> None:
    check_module_yml()
    check_west_yml()
    found = sorted([*ROOT.glob("samples/*/sample.yaml"), *ROOT.glob("tests/zephyr/*/testcase.yaml")])
    if len(found) < 4:
        fail(f"expected 2 samples and 2 test suites, found {[str(f) for f in found]}")
    for path in found:
        check_twister_yaml(path)


# ---------------------------------------------------------------------------------------------
# Rust applications against the stub `zephyr` crate
# ---------------------------------------------------------------------------------------------

RUST_CRATES = ["samples/send_mail", "tests/zephyr/selftest", "tests/zephyr/e2e", "zephyr/c-lib"]


def write_rustapps(out: Path) -> None:
    stub = ROOT / "zephyr" / "check" / "stub-zephyr"
    for crate in RUST_CRATES:
        src = ROOT / crate
        manifest = tomllib.loads((src / "Cargo.toml").read_text())
        deps = manifest.get("dependencies", {})
        if deps.get("zephyr") != "0.1.0":
            fail(f"{crate}: must depend on zephyr = \"0.1.0\" (patched in by zephyr-lang-rust)")
        if manifest["package"]["name"] != "rustapp" and crate != "zephyr/c-lib":
            fail(f"{crate}: zephyr-lang-rust builds the package named rustapp")
        if manifest.get("lib", {}).get("crate-type") != ["staticlib"]:
            fail(f"{crate}: must be a staticlib")
        dest = out / crate.replace("/", "_")
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(src / "src", dest / "src")
        lines = ["[package]", f'name = "{manifest["package"]["name"]}"', 'version = "0.1.0"',
                 'edition = "2021"', "", "[lib]", 'path = "src/lib.rs"',
                 'crate-type = ["staticlib"]', "", "[dependencies]",
                 f'zephyr = {{ path = "{stub}" }}']
        for name, spec in deps.items():
            if name == "zephyr":
                continue
            if isinstance(spec, dict) and "path" in spec:
                spec = dict(spec)
                spec["path"] = str((src / spec["path"]).resolve())
            lines.append(f"{name} = {toml_value(spec)}")
        features = manifest.get("features", {})
        if features:
            lines += ["", "[features]"] + [f"{name} = {toml_value(spec)}" for name, spec in features.items()]
        lines += ["", "[workspace]", ""]
        (dest / "Cargo.toml").write_text("\n".join(lines))
        print(dest)


def toml_value(v) -> str:
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    return str(v)


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    cmd = sys.argv[1]
    if cmd == "kconfig":
        check_kconfig(Path(sys.argv[2]))
    elif cmd == "yaml":
        check_yaml()
    elif cmd == "rustapps":
        write_rustapps(Path(sys.argv[2]))
    else:
        print(__doc__)
        return 2
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
