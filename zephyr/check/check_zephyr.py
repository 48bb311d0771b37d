#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Host-side checks of the Zephyr module that need Python (called by scripts/check-zephyr).

  kconfig OUT   parse Kconfig with kconfiglib inside a model of Zephyr's Kconfig tree
                (zephyr/check/kconfig-model: the upstream symbols it names with their real
                dependencies and selects, as 4.4 and as 4.5), check on both releases the
                configurations a real build would accept and refuse, the .conf files and the
                symbols the sources use, and write autoconf headers (4.5) for the C syntax
                checks into OUT
  sources AUTOCONF
                print the shim's C files that CMakeLists.txt compiles into the zsmtp_shim library
                for the configuration of AUTOCONF (an autoconf header written by `kconfig`):
                zephyr_library_sources(), _ifdef() and _ifndef(), as CMake evaluates them
  yaml          validate zephyr/module.yml, west.yml, sample.yaml and testcase.yaml against the
                keys that Zephyr's module schema (scripts/zephyr_module.py), west's manifest
                schema (src/west/manifest-schema.yml) and twister's testsuite schema
                (scripts/schemas/twister/testsuite-schema.yaml, 4.4/4.5) accept
  ledger        every Zephyr, zephyr-lang-rust and mbedTLS name the module's files use is listed
                in docs/ZEPHYR-UPSTREAM.md (with the upstream file and version it was checked at)
  rustapps OUT  write, for each Zephyr Rust crate, a copy with its committed Cargo.lock and
                zephyr-lang-rust's crates patched in as the local stubs (zephyr/check/stub-zephyr:
                the API it uses; stub-zephyr-sys, -build, -macros: the real dependencies), so
                cargo can compile it on the host, --locked, without ever resolving a crate named
                `zephyr` from a registry

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

MODEL = ROOT / "zephyr" / "check" / "kconfig-model"
# The releases the module supports (README "Zephyr"), oldest first; the model differs where they do.
RELEASES = ("4.4", "4.5")
# The release load_kconfig models; check_kconfig walks RELEASES.
release = RELEASES[-1]


def load_kconfig(top: Path, mbedtls_module: bool = True, rust_module: bool = True):
    """Parses `top` (the model of Zephyr's Kconfig tree, or a sample's Kconfig) with kconfiglib,
    as release `release`."""
    import os

    import kconfiglib

    os.environ["srctree"] = str(MODEL)
    os.environ["ZSMTP_MODEL_ZEPHYR"] = release
    os.environ["ZSMTP_KCONFIG"] = str(ROOT / "Kconfig")
    os.environ["ZSMTP_MODEL_MBEDTLS_MODULE"] = "y" if mbedtls_module else "n"
    os.environ["ZSMTP_MODEL_RUST_MODULE"] = "y" if rust_module else "n"
    kconf = kconfiglib.Kconfig(str(top), warn_to_stderr=False)
    for w in kconf.warnings:
        fail(f"kconfiglib warning in {top.name}: {w}")
    return kconf


def set_values(kconf, values: dict[str, str], where: str) -> None:
    for name, value in values.items():
        sym = kconf.syms.get(name)
        if sym is None or not sym.nodes:
            fail(f"Kconfig ({where}): no symbol {name}")
            continue
        sym.set_value(value)
    # Checked after all are set: a value may depend on one set later (as in a .conf file).
    for name, value in values.items():
        sym = kconf.syms.get(name)
        if sym is not None and sym.nodes and sym.str_value != value:
            fail(f"Kconfig ({where}): {name}={value} not taken (got {sym.str_value!r}; dependencies?)")


def select_warnings(kconf) -> list[str]:
    """What Zephyr's kconfig.py would abort on: selects of symbols whose dependencies are unmet
    (kconfiglib warns when it computes such a symbol's value, so every value is computed first)."""
    for sym in kconf.unique_defined_syms:
        _ = sym.str_value
    return [w for w in kconf.warnings if "but is currently being" in w]


def used_symbols() -> dict[str, set[str]]:
    """CONFIG_SMTP_CLIENT_* (and sample) symbols named in the module's files, by file."""
    files = [*ROOT.glob("shim/zephyr/*.[ch]"), *ROOT.glob("shim/common/*.[ch]"),
             ROOT / "include/nxd_smtp_client.h", ROOT / "CMakeLists.txt", ROOT / "build.rs",
             ROOT / "prj.conf", *ROOT.glob("boards/*.conf"), *ROOT.glob("samples/*/*.conf"),
             *ROOT.glob("samples/*/src/*"), *ROOT.glob("tests/zephyr/*/*.conf"),
             *ROOT.glob("tests/zephyr/*/src/*"),
             *ROOT.glob("tests/zephyr/*/testcase.yaml"), *ROOT.glob("samples/*/sample.yaml")]
    found: dict[str, set[str]] = {}
    for f in files:
        if not f.is_file():
            continue
        for m in re.finditer(r"CONFIG_((?:SMTP_CLIENT|SEND_MAIL|NETX_COMPAT|OUTBOX_ALARM|ZSMTP_SELFTEST)_[A-Z0-9_]+)",
                             f.read_text(errors="replace")):
            found.setdefault(m.group(1), set()).add(str(f.relative_to(ROOT)))
    return found


# Boards of the model: what a .conf of a real board would bring.
NATIVE_SIM_64 = {"ARCH_POSIX": "y", "64BIT": "y", "ENTROPY_HAS_DRIVER": "y", "FLASH_HAS_PAGE_LAYOUT": "y"}
CORTEX_M3_NO_ENTROPY = {"CPU_CORTEX_M3": "y"}
BASE = {"NETWORKING": "y", "NET_SOCKETS": "y", "NET_TCP": "y", "NET_IPV4": "y", "NET_IPV6": "y",
        "RUST": "y", "SMTP_CLIENT": "y"}
TLS = {"MBEDTLS": "y", "PSA_CRYPTO": "y", "TLS_CREDENTIALS": "y"}

# name: (mbedtls module in the workspace, values, expected values, C variant written)
VARIANTS = {
    # Everything, default mode STARTTLS (the module's TLS client), the C API, settings, shell.
    "full": (True, {**NATIVE_SIM_64, **BASE, **TLS, "SMTP_CLIENT_NETX_API": "y",
                    "SMTP_CLIENT_AUTH_LOGIN": "y", "SMTP_CLIENT_TLS_STARTTLS": "y",
                    "SETTINGS": "y", "SHELL": "y", "LOG": "y", "OBJ_CORE_MUTEX": "y",
                    "SMTP_CLIENT_OUTBOX": "y", "FLASH": "y", "FLASH_MAP": "y", "ZMS": "y",
                    "FLASH_PAGE_LAYOUT": "y"},
             {"SMTP_CLIENT_TLS_MBEDTLS": "y", "SMTP_CLIENT_TLS_SOCKETS": "n", "SMTP_CLIENT_SHELL": "y",
              "SMTP_CLIENT_SETTINGS": "y", "SMTP_CLIENT_OUTBOX_ZMS": "y", "SMTP_CLIENT_OUTBOX_RAM": "n",
              "SMTP_CLIENT_OUTBOX_WORKER": "y", "CRC": "y",
              "SMTP_CLIENT_WALL_CLOCK": "y", "SMTP_CLIENT_TLS_SEC_TAG": "1397511248",
              "SMTP_CLIENT_ADDRESS_FAMILY_ANY": "y",
              # what the TLS client selects and implies from mbedTLS
              "MBEDTLS_SSL_PROTO_TLS1_2": "y", "MBEDTLS_X509_CRT_PARSE_C": "y",
              "MBEDTLS_SSL_SERVER_NAME_INDICATION": "y", "PSA_CRYPTO": "y",
              "MBEDTLS_PEM_PARSE_C": "y", "MBEDTLS_PSA_CRYPTO_C": "y", "MBEDTLS_ENABLE_HEAP": "y",
              "MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG": "y", "TEST_RANDOM_GENERATOR": "n",
              "MBEDTLS_CIPHERSUITE_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "y",
              "MBEDTLS_CIPHERSUITE_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "y",
              "MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED": "y",
              "MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED": "y"}, "full"),
    # No TLS, no settings, no shell.
    "minimal": (False, {**NATIVE_SIM_64, **BASE},
                {"SMTP_CLIENT_TLS_MBEDTLS": "n", "SMTP_CLIENT_TLS_SOCKETS": "n", "SMTP_CLIENT_TLS_NONE": "y",
                 "SMTP_CLIENT_SHELL": "n", "SMTP_CLIENT_SETTINGS": "n"}, "minimal"),
    # Implicit TLS with the built-in mbedTLS: the module's TLS client, as for STARTTLS.
    "implicit": (True, {**NATIVE_SIM_64, **BASE, **TLS, "SMTP_CLIENT_TLS_IMPLICIT": "y"},
                 {"SMTP_CLIENT_TLS_MBEDTLS": "y"}, "implicit"),
    # Offloaded TLS (a modem's): no native stack, no mbedTLS module; a TLS socket.
    "offload": (False, {**CORTEX_M3_NO_ENTROPY, **BASE, "NET_NATIVE": "n", "NET_SOCKETS_OFFLOAD": "y",
                        "NET_SOCKETS_SOCKOPT_TLS": "y", "TLS_CREDENTIALS": "y",
                        "SMTP_CLIENT_TLS_IMPLICIT": "y", "SMTP_CLIENT_ADDRESS_FAMILY_IPV4": "y"},
                {"SMTP_CLIENT_TLS_MBEDTLS": "n", "SMTP_CLIENT_TLS_SOCKETS": "y", "MBEDTLS": "n"},
                "offload"),
    # A TF-M board (non-secure image): PSA from TF-M, Zephyr's mbedTLS for TLS on top.
    "tfm": (True, {**CORTEX_M3_NO_ENTROPY, "ENTROPY_HAS_DRIVER": "y", "BUILD_WITH_TFM": "y", **BASE,
                   **TLS, "SMTP_CLIENT_TLS_STARTTLS": "y"},
            {"SMTP_CLIENT_TLS_MBEDTLS": "y", "PSA_CRYPTO_PROVIDER_TFM": "y", "MBEDTLS_PSA_CRYPTO_C": "n",
             "MBEDTLS_CIPHERSUITE_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "y"}, "tfm"),
    # The C API's outbox on a board without a flash partition for it: records in RAM, no
    # delivery worker (the application flushes), the shell's outbox commands.
    "outbox-ram": (False, {**CORTEX_M3_NO_ENTROPY, **BASE, "SMTP_CLIENT_NETX_API": "y", "SHELL": "y",
                           "SMTP_CLIENT_OUTBOX": "y", "SMTP_CLIENT_OUTBOX_WORKER": "n"},
                   {"SMTP_CLIENT_OUTBOX_RAM": "y", "SMTP_CLIENT_OUTBOX_ZMS": "n", "SMTP_CLIENT_SHELL": "y",
                    "SMTP_CLIENT_OUTBOX_RAM_SIZE": "16384"}, "outbox-ram"),
    # An emulated board without entropy, TLS allowed for build tests only.
    "insecure-rng": (True, {**CORTEX_M3_NO_ENTROPY, **BASE, **TLS, "TEST_RANDOM_GENERATOR": "y",
                            "SMTP_CLIENT_TLS_INSECURE_RNG": "y", "SMTP_CLIENT_TLS_STARTTLS": "y"},
                     {"SMTP_CLIENT_TLS_MBEDTLS": "y", "MBEDTLS_PSA_CRYPTO_LEGACY_RNG": "y"},
                     "insecure-rng"),
}


def not_offered(top: Path, values: dict[str, str], modes: tuple[str, ...], where: str) -> None:
    """Checks that, with `values`, none of `modes` can be set and nothing selects against its
    dependencies."""
    failed = len(FAILURES)
    for mode in modes:
        kconf = load_kconfig(top)
        set_values(kconf, values, where)
        kconf.syms[mode].set_value("y")
        if kconf.syms[mode].str_value != "n":
            fail(f"Kconfig: {mode} could be set {where}")
        for w in select_warnings(kconf):
            fail(f"Kconfig ({mode} {where}): a real build would abort: {w}")
    if len(FAILURES) == failed:
        ok(f"Kconfig: {where}, no TLS mode of the module's client is offered (and nothing breaks)")


def check_kconfig(out: Path) -> None:
    global release
    out.mkdir(parents=True, exist_ok=True)
    for release in RELEASES:
        print(f"--   Zephyr {release}")
        check_kconfig_release(out if release == RELEASES[-1] else None)


def check_kconfig_release(out: Path | None) -> None:
    """The Kconfig checks against the model of one release; autoconf headers go to `out`."""
    top = MODEL / "Kconfig.zephyr"

    kconf = load_kconfig(top)
    kconf.syms["SMTP_CLIENT"].set_value("y")
    if kconf.syms["SMTP_CLIENT"].str_value != "n":
        fail("Kconfig: SMTP_CLIENT enabled without NETWORKING/NET_SOCKETS/RUST")
    else:
        ok("Kconfig: SMTP_CLIENT needs NETWORKING, NET_SOCKETS and RUST")

    # Without zephyr-lang-rust in the workspace the client cannot be enabled (RUST does not
    # exist) and nothing else breaks.
    kconf = load_kconfig(top, rust_module=False)
    set_values(kconf, {**NATIVE_SIM_64, "NETWORKING": "y", "NET_SOCKETS": "y"}, "no lang-rust")
    kconf.syms["SMTP_CLIENT"].set_value("y")
    if kconf.syms["SMTP_CLIENT"].str_value != "n" or select_warnings(kconf):
        fail("Kconfig: SMTP_CLIENT without the lang-rust module")
    else:
        ok("Kconfig: without zephyr-lang-rust, SMTP_CLIENT cannot be enabled (and nothing else breaks)")

    for name, (mbedtls_module, values, expect, cvariant) in VARIANTS.items():
        failed = len(FAILURES)
        kconf = load_kconfig(top, mbedtls_module=mbedtls_module)
        set_values(kconf, values, name)
        for sym, value in expect.items():
            got = kconf.syms[sym].str_value if sym in kconf.syms else "(undefined)"
            if got != value:
                fail(f"Kconfig ({name}): {sym} is {got!r}, expected {value!r}")
        for w in select_warnings(kconf):
            fail(f"Kconfig ({name}): a real build would abort: {w}")
        if len(FAILURES) > failed:
            continue
        written = ""
        if out is not None:
            header = out / f"autoconf-{cvariant}.h"
            kconf.write_autoconf(str(header))
            written = f"; {header.name} written"
        ok(f"Kconfig ({name}): values as expected, no unmet select{written}")

    # The refusals a real build must give.
    # 1. TLS needs the mbedTLS module in the workspace (west.yml's allowlist).
    kconf = load_kconfig(top, mbedtls_module=False)
    set_values(kconf, {**NATIVE_SIM_64, **BASE}, "no mbedtls module")
    for sym in ("MBEDTLS", "SMTP_CLIENT_TLS_STARTTLS"):
        kconf.syms[sym].set_value("y")
        if kconf.syms[sym].str_value == "y":
            fail(f"Kconfig: {sym} could be set without the mbedtls module")
    ok("Kconfig: without the mbedtls module, MBEDTLS and STARTTLS cannot be set")
    # The module's TLS modes are not offered without what they need: a .conf that asks for one
    # then aborts a real build (Zephyr's kconfig.py refuses an assignment that does not take),
    # and nothing selects against its dependencies.
    tls_modes = ("SMTP_CLIENT_TLS_STARTTLS", "SMTP_CLIENT_TLS_IMPLICIT", "SMTP_CLIENT_TLS_MBEDTLS")
    # 2. No TLS without a CSPRNG (a board without entropy).
    not_offered(top, {**CORTEX_M3_NO_ENTROPY, **BASE, **TLS}, tls_modes, "without a CSPRNG")
    # 3. Nor without the PSA crypto API, which the application enables (a select would loop:
    #    PSA_CRYPTO selects MBEDTLS), so that no build ends up with TLS but without a ciphersuite.
    not_offered(top, {**NATIVE_SIM_64, **BASE, "MBEDTLS": "y", "TLS_CREDENTIALS": "y"}, tls_modes,
                "without PSA_CRYPTO")
    # 4. Nor with a custom PSA provider that is not Mbed TLS's PSA core (Zephyr 4.4 hides the PSA
    #    symbols the ciphersuites select unless PSA_CRYPTO_CLIENT, which then stays off).
    not_offered(top, {**NATIVE_SIM_64, **BASE, **TLS, "PSA_CRYPTO_PROVIDER_CUSTOM": "y",
                      "MBEDTLS_PSA_CRYPTO_C": "n"}, tls_modes, "with a custom PSA provider")
    # 5. Zephyr's own TLS sockets on the native stack need the mbedtls module too (upstream
    #    NET_SOCKETS_SOCKOPT_TLS selects MBEDTLS).
    kconf = load_kconfig(top, mbedtls_module=False)
    for sym, value in {**NATIVE_SIM_64, **BASE, "NET_SOCKETS_SOCKOPT_TLS": "y"}.items():
        kconf.syms[sym].set_value(value)
    if not select_warnings(kconf):
        fail("Kconfig model: NET_SOCKETS_SOCKOPT_TLS without the mbedtls module passed")
    else:
        ok("Kconfig model: native TLS sockets without the mbedtls module stop the build, as upstream")

    # The repository's base configuration and every application's .conf files parse against the
    # model: each line must take its value (an unknown or unavailable symbol would abort Zephyr).
    check_conf_files()

    # Every symbol the sources use must exist (a typo would silently read as unset).
    kconf = load_kconfig(top)
    sample_syms: set[str] = set()
    for sample in sorted([*ROOT.glob("samples/*/Kconfig"), *ROOT.glob("tests/zephyr/*/Kconfig")]):
        skconf = load_kconfig(sample)
        sample_syms |= set(skconf.syms)
        ok(f"Kconfig: {sample.relative_to(ROOT)} parses")
    for sym, where in sorted(used_symbols().items()):
        if (sym not in kconf.syms or not kconf.syms[sym].nodes) and sym not in sample_syms:
            fail(f"Kconfig: CONFIG_{sym} used in {', '.join(sorted(where))} is not defined")
    ok("Kconfig: every CONFIG_SMTP_CLIENT_*/sample symbol used is defined")

    # The limits that reach the C header and Rust must be the same set: every Kconfig symbol the
    # header takes a limit from is one build.rs reads.
    header = (ROOT / "include" / "nxd_smtp_client.h").read_text()
    build_rs = (ROOT / "build.rs").read_text()
    header_syms = re.findall(r"#define NX_SMTP_CLIENT_\w+\s+CONFIG_(SMTP_CLIENT_\w+)", header)
    if not header_syms:
        fail("include/nxd_smtp_client.h takes no limit from Kconfig (CONFIG_SMTP_CLIENT_*)")
    for sym in header_syms:
        if f'"{sym}"' not in build_rs:
            fail(f"CONFIG_{sym} reaches the C header (include/nxd_smtp_client.h) but not Rust (build.rs)")
    ok("limits: the same Kconfig values reach the C header and the Rust build")


def conf_values(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$", line.strip())
        if m:
            values[m.group(1)] = m.group(2).strip().strip('"')
    return values


# The boards of the twister scenarios, as the model knows them, with their .conf in boards/.
MODEL_BOARDS = {
    "native_sim/native/64": NATIVE_SIM_64,
    "mps2/an385": CORTEX_M3_NO_ENTROPY,
    # Cortex-M7 with a hardware RNG (entropy_stm32); the model's Cortex-M3 stands in for the
    # Rust target question, which only matters for RUST_SUPPORTED.
    "nucleo_f767zi": {**CORTEX_M3_NO_ENTROPY, "ENTROPY_HAS_DRIVER": "y", "FPU": "y"},
}


def scenario_values(app: Path, board: str, scenario: dict) -> dict[str, str]:
    """The configuration twister builds for one scenario on one board: the repository's base
    prj.conf and boards/<board>.conf, the application's prj.conf (zephyr/app-base-config.cmake),
    then extra_overlay_confs and extra_configs (with their arch:/platform: prefixes)."""
    values = dict(MODEL_BOARDS[board])
    values.update(conf_values(ROOT / "prj.conf"))
    board_conf = ROOT / "boards" / (board.replace("/", "_") + ".conf")
    if board_conf.is_file():
        values.update(conf_values(board_conf))
    values.update(conf_values(app / "prj.conf"))
    for overlay in scenario.get("extra_overlay_confs", []) or []:
        values.update(conf_values(app / overlay))
    for line in scenario.get("extra_configs", []) or []:
        m = re.match(r"^(?:(arch|platform):([^:]+):)?CONFIG_([A-Za-z0-9_]+)=(.*)$", line)
        if not m:
            fail(f"{app.relative_to(ROOT)}: extra_configs entry {line!r} not understood")
            continue
        kind, what, name, value = m.groups()
        if kind == "arch" and not (what == "posix" and board.startswith("native_sim")):
            continue
        if kind == "platform" and what != board:
            continue
        values[name] = value.strip('"')
    return values


def check_conf_files() -> None:
    """Every twister scenario's configuration, on every board it allows, takes every value and
    selects nothing against its dependencies in the model (either would abort a real build)."""
    failed = len(FAILURES)
    for yml in sorted([*ROOT.glob("samples/*/sample.yaml"), *ROOT.glob("tests/zephyr/*/testcase.yaml")]):
        app = yml.parent
        data = load_yaml(yml)
        common = data.get("common", {}) or {}
        kfile = app / "Kconfig"
        for name, scenario in (data.get("tests") or {}).items():
            merged = {**common, **(scenario or {})}
            for key in ("extra_overlay_confs", "extra_configs"):
                merged[key] = [*(common.get(key) or []), *((scenario or {}).get(key) or [])]
            for board in merged.get("platform_allow", []):
                if board not in MODEL_BOARDS:
                    fail(f"{yml.relative_to(ROOT)}:{name}: board {board} is not in the Kconfig model")
                    continue
                where = f"{name} on {board}"
                kconf = load_kconfig(kfile if kfile.is_file() else MODEL / "Kconfig.zephyr")
                set_values(kconf, scenario_values(app, board, merged), where)
                for w in select_warnings(kconf):
                    fail(f"Kconfig ({where}): a real build would abort: {w}")
    if len(FAILURES) == failed:
        ok("Kconfig: every twister scenario's configuration takes its values on its boards")


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
    if build.get("depends"):
        # zephyr_module.py aborts every configure in the workspace when a listed module is
        # missing, also for applications that never enable the client.
        fail("zephyr/module.yml: build.depends would break every application of a workspace "
             "without those modules")
    ok("zephyr/module.yml: keys, paths, no hard module dependency")


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
    if str(zephyr.get("revision", "")) != "v4.5.0":
        fail("west.yml: zephyr must be pinned to v4.5.0, the newest release")
    allow = set((zephyr.get("import") or {}).get("name-allowlist") or [])
    # A TLS build needs Mbed TLS and, since Zephyr 4.4, TF-PSA-Crypto (their Kconfig exists only
    # with the modules in the workspace); the Arm boards need CMSIS 6, nucleo_f767zi its HAL.
    for module in ("mbedtls", "tf-psa-crypto", "cmsis_6", "hal_stm32"):
        if module not in allow:
            fail(f"west.yml: the name-allowlist lacks {module}")
    rust = projects.get("zephyr-lang-rust", {})
    if not re.fullmatch(r"[0-9a-f]{40}", str(rust.get("revision", ""))):
        fail("west.yml: zephyr-lang-rust must be pinned to a full commit")
    if rust.get("path") != "modules/lang/rust":
        fail("west.yml: zephyr-lang-rust belongs at modules/lang/rust")
    if rust.get("groups"):
        fail("west.yml: zephyr-lang-rust must be in no group (Zephyr's group-filter turns off optional)")
    # The dependency stubs mirror zephyr-lang-rust at the pinned commit: a new pin needs them
    # compared again (and saying so in their headers).
    pin = str(rust.get("revision", ""))[:7]
    for stub in sorted((ROOT / "zephyr" / "check").glob("stub-zephyr*/Cargo.toml")):
        if pin not in stub.read_text():
            fail(f"{stub.relative_to(ROOT)}: does not say it mirrors zephyr-lang-rust {pin} (west.yml's pin)")
    if (data.get("manifest", {}).get("self") or {}).get("path") != "modules/lib/zsmtp":
        fail("west.yml: self.path must be modules/lib/zsmtp (the workflow and README use it)")
    ok("west.yml: keys, remotes, pins, allowlist")


# The board zephyr-lang-rust's own CI builds for (its Cortex-M3), where twister builds every
# application; native_sim/native/64 is where they run.
LANG_RUST_CI_BOARD = "mps2/an385"


def check_twister_yaml(path: Path) -> set[str]:
    """Checks one sample.yaml / testcase.yaml; returns the platforms its scenarios allow."""
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
        return set()
    common = data.get("common", {}) or {}
    platforms: set[str] = set()
    runs_on_native_sim = False
    for name, scenario in tests.items():
        scenario = scenario or {}
        if not re.search(r"[a-zA-Z0-9_]", name) or "/" in name:
            fail(f"{rel}: bad test name {name!r}")
        validate(scenario, SCENARIO, f"{rel}:tests.{name}")
        merged = {**common, **scenario}
        harness = merged.get("harness")
        build_only = merged.get("build_only", False)
        if not build_only and harness not in HARNESSES:
            fail(f"{rel}:{name}: harness {harness!r} is not a twister harness")
        if "CONFIG_RUST_SUPPORTED" not in str(merged.get("filter", "")):
            fail(f"{rel}:{name}: Rust applications filter on CONFIG_RUST_SUPPORTED")
        config = merged.get("harness_config", {}) or {}
        if harness == "console" and not build_only:
            regexes = config.get("regex") or []
            if not regexes:
                fail(f"{rel}:{name}: console harness without regex")
            for regex in regexes:
                # Only success may match: no alternative that a failure line also satisfies.
                if re.search(r"fail|error|\|", regex, re.IGNORECASE):
                    fail(f"{rel}:{name}: regex {regex!r} can match a failure")
        if harness == "pytest" and not build_only:
            for root in config.get("pytest_root", ["pytest"]):
                if not (path.parent / root).exists():
                    fail(f"{rel}:{name}: pytest_root {root} does not exist")
        for key in ("extra_overlay_confs", "extra_conf_files"):
            for f in merged.get(key, []) or []:
                if not (path.parent / f).is_file():
                    fail(f"{rel}:{name}: {key} {f} does not exist")
        if "extra_conf_files" in merged:
            fail(f"{rel}:{name}: extra_conf_files replaces CONF_FILE and so the base configuration "
                 "(zephyr/app-base-config.cmake): use extra_overlay_confs")
        allow = merged.get("platform_allow", [])
        allow = allow.split() if isinstance(allow, str) else allow
        platforms |= set(allow)
        if "native_sim/native/64" in allow and not build_only:
            runs_on_native_sim = True
    if not runs_on_native_sim:
        fail(f"{rel}: no scenario runs on native_sim/native/64")
    if path.name == "sample.yaml" and LANG_RUST_CI_BOARD not in platforms:
        fail(f"{rel}: no scenario builds for {LANG_RUST_CI_BOARD} (zephyr-lang-rust's CI CPU)")
    ok(f"{rel}: twister keys, harness, success-only regexes, platforms")
    return platforms


def check_yaml() -> None:
    check_module_yml()
    check_west_yml()
    found = sorted([*ROOT.glob("samples/*/sample.yaml"), *ROOT.glob("tests/zephyr/*/testcase.yaml")])
    if len(found) < 4:
        fail(f"expected 2 samples and 2 test suites, found {[str(f) for f in found]}")
    for path in found:
        check_twister_yaml(path)


# ---------------------------------------------------------------------------------------------
# The shim's sources per configuration
# ---------------------------------------------------------------------------------------------

SOURCES_CALL = re.compile(r"\bzephyr_library_sources(_ifdef|_ifndef)?\(([^)]*)\)")
# if(CONFIG_X) / if(NOT CONFIG_X) blocks; any other if() is "unknown" and may not hold sources.
IF_SIMPLE = re.compile(r"^\s*if\((NOT\s+)?(CONFIG_\w+)\)\s*$")
IF_ANY = re.compile(r"^\s*if\s*\(")
ENDIF = re.compile(r"^\s*endif\s*\(")
ELSE = re.compile(r"^\s*(else|elseif)\s*\(")


def shim_sources(autoconf: Path) -> list[str]:
    """The C files CMakeLists.txt compiles into the shim library for the configuration in
    `autoconf` (`#define CONFIG_X 1` lines; an unset bool is absent, as in CMake), inside the
    if(CONFIG_X) / if(NOT CONFIG_X) blocks that hold them."""
    enabled = set(re.findall(r"^#define (CONFIG_\w+) ", autoconf.read_text(), re.M))
    chosen = []
    # The enclosing if() blocks: True/False for a simple one, None for one not evaluated here.
    stack: list[bool | None] = []
    text = (ROOT / "CMakeLists.txt").read_text()
    # The calls are single-line in CMakeLists.txt, or continue on the lines up to their ')'.
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].split("#", 1)[0] if not lines[i].lstrip().startswith("#") else ""
        i += 1
        if m := IF_SIMPLE.match(line):
            stack.append((m.group(2) in enabled) != bool(m.group(1)))
            continue
        if IF_ANY.match(line):
            stack.append(None)
            continue
        if ELSE.match(line):
            if stack and stack[-1] is not None:
                stack[-1] = not stack[-1]
            continue
        if ENDIF.match(line):
            if stack:
                stack.pop()
            continue
        if "zephyr_library_sources" not in line:
            continue
        call = line
        while ")" not in call and i < len(lines):
            call += " " + lines[i].split("#", 1)[0]
            i += 1
        for kind, args in SOURCES_CALL.findall(call):
            words = args.split()
            if any(c is None for c in stack):
                fail(f"CMakeLists.txt: zephyr_library_sources inside an if() check_zephyr.py does not evaluate: {call.strip()}")
            if not all(c is not False for c in stack):
                continue
            if kind:
                symbol, words = words[0], words[1:]
                if (symbol in enabled) != (kind == "_ifdef"):
                    continue
            chosen += [w for w in words if w.endswith(".c")]
    missing = [f for f in chosen if not (ROOT / f).is_file()]
    if missing:
        fail(f"CMakeLists.txt compiles files that do not exist: {', '.join(missing)}")
    return chosen


# ---------------------------------------------------------------------------------------------
# The upstream ledger
# ---------------------------------------------------------------------------------------------

LEDGER = ROOT / "docs" / "ZEPHYR-UPSTREAM.md"

# The names that come from Zephyr, zephyr-lang-rust or mbedTLS (the issue's list and the rest of
# the Zephyr API families the shim calls), and the module's own names among them.
UPSTREAM_NAME = re.compile(
    r"\b(zsock_\w+|ZSOCK_\w+|NET_\w+|net_\w+|CONFIG_\w+|mbedtls_\w+|MBEDTLS_\w+|psa_\w+|PSA_\w+"
    r"|SETTINGS_\w+|settings_\w+|SHELL_\w+|shell_\w+|DNS_EAI_\w+|ZVFS_\w+|tls_credential_\w+"
    r"|TLS_CREDENTIAL_\w+|k_\w+|K_\w+|sys_\w+|SYS_\w+|LOG_\w+|sec_tag_t|fs_\w+|FS_\w+|zms_\w+"
    r"|flash_\w+|FIXED_PARTITION_\w+|device_is_ready)\b(?!\.[ch]\b)")
OWN_NAME = re.compile(r"^CONFIG_(SMTP_CLIENT|SEND_MAIL|NETX_COMPAT|OUTBOX_ALARM|ZSMTP)(_|$)|^CONFIG_ZEPHYR_ZSMTP_MODULE$")
CMAKE_FUNCTION = re.compile(r"\b(zephyr_\w+|generate_inc_file_for_target|rust_cargo_application|_rust_map_target)\s*\(")
KCONFIG_EXPR = re.compile(r"^\s*(depends on|select|imply|default|range|visible if|if)\b(.*)$")


def ledger_sources() -> list[Path]:
    return sorted({
        *ROOT.glob("shim/zephyr/*.[ch]"), *ROOT.glob("shim/common/*.[ch]"),
        *ROOT.glob("shim/posix/*.[ch]"), ROOT / "CMakeLists.txt", *ROOT.glob("zephyr/*.cmake"),
        ROOT / "Kconfig", ROOT / "prj.conf", *ROOT.glob("boards/*.conf"),
        *ROOT.glob("samples/*/*.conf"), *ROOT.glob("samples/*/Kconfig"),
        *ROOT.glob("samples/*/CMakeLists.txt"), *ROOT.glob("samples/*/src/*"),
        *ROOT.glob("samples/*/sample.yaml"), *ROOT.glob("tests/zephyr/*/*.conf"),
        *ROOT.glob("tests/zephyr/*/Kconfig"), *ROOT.glob("tests/zephyr/*/CMakeLists.txt"),
        *ROOT.glob("tests/zephyr/*/src/*"), *ROOT.glob("tests/zephyr/*/testcase.yaml"),
        *ROOT.glob("zephyr/c-lib/src/*"),
    })


def upstream_names_used() -> dict[str, set[str]]:
    """Every upstream name the module's files use (comments included: a name in a comment is a
    claim about upstream too), by file."""
    used: dict[str, set[str]] = {}

    def add(name: str, where: Path) -> None:
        if not OWN_NAME.match(name):
            used.setdefault(name, set()).add(str(where.relative_to(ROOT)))

    for f in ledger_sources():
        text = f.read_text(errors="replace")
        for m in UPSTREAM_NAME.finditer(text):
            name = m.group(1)
            # In a Kconfig file an upper-case name is a Kconfig symbol, written without CONFIG_.
            if f.name == "Kconfig" and name.isupper() and not name.startswith("CONFIG_"):
                name = "CONFIG_" + name
            add(name, f)
        if f.name == "CMakeLists.txt" or f.suffix == ".cmake":
            for m in CMAKE_FUNCTION.finditer(text):
                add(m.group(1), f)
        if f.name == "Kconfig":
            # Kconfig names symbols without the CONFIG_ prefix.
            for line in text.splitlines():
                m = KCONFIG_EXPR.match(line)
                if m:
                    for sym in re.findall(r"\b[A-Z][A-Z0-9_]*[A-Z0-9]\b", m.group(2)):
                        add("CONFIG_" + sym, f)
    return used


def check_ledger() -> None:
    # The names of the tables' rows (the prose names families, which must not count as entries).
    rows = "\n".join(line for line in LEDGER.read_text().splitlines() if line.startswith("|"))
    listed = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*\*?)`", rows))
    prefixes = tuple(name[:-1] for name in listed if name.endswith("*"))
    # A Kconfig help text may also name a C constant (SYS_CLOCK_REALTIME): either spelling counts.
    missing = {name: where for name, where in upstream_names_used().items()
               if name not in listed and name.removeprefix("CONFIG_") not in listed
               and not name.startswith(prefixes or ("\0",))}
    for name, where in sorted(missing.items()):
        fail(f"{LEDGER.relative_to(ROOT)} does not list {name} (used in {', '.join(sorted(where))})")
    if not missing:
        ok(f"{LEDGER.relative_to(ROOT)} lists every upstream name the module uses "
           f"({len(upstream_names_used())} names)")


# ---------------------------------------------------------------------------------------------
# Rust applications against the stub `zephyr` crate
# ---------------------------------------------------------------------------------------------

RUST_CRATES = ["samples/send_mail", "tests/zephyr/selftest", "tests/zephyr/e2e", "zephyr/c-lib"]


def write_rustapps(out: Path) -> None:
    check = ROOT / "zephyr" / "check"
    # As zephyr-lang-rust's rust_cargo_application() patches its crates in, with the stubs.
    patch = ["[patch.crates-io]"] + [
        f'{name} = {{ path = "{check / ("stub-" + name)}" }}' for name in ("zephyr", "zephyr-build", "zephyr-sys")]
    for crate in RUST_CRATES:
        src = ROOT / crate
        if (src / "Cargo.toml.in").is_file():
            # The C library's template, as the module's CMakeLists.txt fills it in.
            text = (src / "Cargo.toml.in").read_text()
            text = text.replace("@ZSMTP_C_LIB_SOURCE@", str(src)).replace("@ZSMTP_MODULE_DIR@", str(ROOT))
            manifest = tomllib.loads(text)
        else:
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
                 'crate-type = ["staticlib"]', "", "[dependencies]", 'zephyr = "0.1.0"']
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
        # The application's own release profile (zephyr-lang-rust builds with --release).
        release = manifest.get("profile", {}).get("release", {})
        if release:
            lines += ["", "[profile.release]"] + [f"{name} = {toml_value(spec)}" for name, spec in release.items()]
        lines += ["", "[workspace]", ""]
        (dest / "Cargo.toml").write_text("\n".join(lines))
        # The committed lockfile, which cargo --locked must find complete for this graph.
        shutil.copy(src / "Cargo.lock", dest / "Cargo.lock")
        (dest / ".cargo").mkdir(exist_ok=True)
        (dest / ".cargo" / "config.toml").write_text("\n".join(patch) + "\n")
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
    elif cmd == "sources":
        print("\n".join(shim_sources(Path(sys.argv[2]))))
    elif cmd == "yaml":
        check_yaml()
    elif cmd == "ledger":
        check_ledger()
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
