#!/usr/bin/env python3
"""Footprint of zsmtp's three NetX Duo services, our code alone (run by scripts/footprint).

    footprint/measure.py [--targets T,T,...] [--no-stack] [--json PATH]

The C API's small profile (zsmtp feature `small`: create and send at NetX Duo's scope) is built
and measured the same way for Cortex-M4 (a second image; its stack under QEMU too), and so is the
full profile with each optional feature of FEATURE_ROWS (oauth2, mime, outbox): a row of its own,
what the feature costs over the default build.

For each target the image of footprint/ is built twice (as is, and with --features baseline,
which leaves out only the three service calls) with opt-level "z", LTO and panic=abort; the
difference of their sections is zsmtp's .text, .rodata, .data and .bss. The difference is also
split by where the code comes from (zsmtp, base64, core, and C-library routines such as memcpy
or 64-bit division, which a Zephyr firmware gets from its C library anyway). The client sizes
are read from the image's FOOTPRINT_SIZES table. On thumbv7em-none-eabihf the image is run under
qemu-system-arm (mps2-an386, a Cortex-M4) to measure the peak stack of create + send + delete
by stack painting. Only the standard library is used (the ELF files are parsed here)."""
import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = ["thumbv7em-none-eabihf", "thumbv6m-none-eabi", "riscv32imac-unknown-none-elf"]
M4 = "thumbv7em-none-eabihf"
# NetX Duo's and lwIP's clients, arm-none-eabi-gcc 12.2 -Os -mcpu=cortex-m4, gc-sections
# (docs/PERFORMANCE.md, "The C clients compared").
NETX = {"text": 4700, "bss": 512, "client": 524}
LWIP = {"text": 3412, "bss": 336, "heap_per_mail": 384}
# Routines a C firmware takes from its C library / libgcc (shared with everything else).
CLIB = re.compile(r"^(mem(cpy|move|set|cmp|clr)\w*|strlen|__aeabi_\w+|__(u)?(div|mod)\w+|__\w*divmod\w*|__ashl\w*|"
                  r"__lshr\w*|__mul\w*|__clz\w*)$")


def log(msg):
    print(f"footprint: {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ ELF32 (little endian)

def elf_sections(path):
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 1:
        raise SystemExit(f"{path}: not an ELF32 file")
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    raw = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = raw[shstrndx]

    def name(off, tab):
        start = tab[4] + off
        return data[start:data.index(b"\0", start)].decode()

    sections = [{"name": name(s[0], strtab), "type": s[1], "addr": s[3], "offset": s[4], "size": s[5], "link": s[6]}
                for s in raw]
    return data, sections


def elf_symbols(path):
    data, sections = elf_sections(path)
    symtab = next(s for s in sections if s["type"] == 2)
    strs = sections[symtab["link"]]
    out = []
    for i in range(symtab["size"] // 16):
        nm, value, size, info, _, shndx = struct.unpack_from("<IIIBBH", data, symtab["offset"] + 16 * i)
        if size == 0 or (info & 0xF) not in (1, 2):  # objects and functions
            continue
        start = strs["offset"] + nm
        name = data[start:data.index(b"\0", start)].decode(errors="replace")
        out.append({"name": name, "value": value, "size": size, "shndx": shndx})
    return data, sections, out


def section_sizes(path):
    _, sections = elf_sections(path)
    size = {s["name"]: s["size"] for s in sections}
    return {"text": size.get(".text", 0) + size.get(".vector_table", 0), "rodata": size.get(".rodata", 0),
            "data": size.get(".data", 0), "bss": size.get(".bss", 0)}


def origin(name):
    """Which crate (or library) a symbol's code comes from."""
    if CLIB.match(name):
        return "C library routines"
    if name.startswith(("nx_", "nxd_", "_nx_")):
        return "zsmtp"
    if name.startswith(("smtp_shim_", "rust_reset", "reset", "FOOTPRINT_", "__rustc")) or name in ("fault",):
        return "harness"
    if name.startswith("OUTLINED_FUNCTION_"):
        return "outlined fragments (LLVM -Oz)"
    if name.startswith("_R"):  # v0 mangling (the precompiled core and compiler_builtins)
        m = re.search(r"\d+(compiler_builtins|core|zsmtp|base64|heapless|embedded_io|log|footprint|__rustc)", name)
        crate = m.group(1) if m else "other"
        return {"compiler_builtins": "C library routines", "footprint": "harness", "__rustc": "harness"}.get(crate, crate)
    m = re.match(r"_ZN(\d+)(.*)", name)
    if not m:
        return "other"
    first = m.group(2)[: int(m.group(1))]
    crates = re.findall(r"(zsmtp|base64|heapless|embedded_io|compiler_builtins|footprint|core|log)\.\.", first)
    crate = first if re.fullmatch(r"[a-z_][a-z0-9_]*", first) else crates[0] if crates else first
    if crate == "compiler_builtins":
        return "C library routines"
    if crate in ("zsmtp", "base64", "core", "heapless", "embedded_io", "log"):
        return crate
    if crate == "footprint":
        return "harness"
    return "core" if first.startswith("_$LT$") or first.startswith("_") else "other"


def by_origin(path):
    _, sections, syms = elf_symbols(path)
    code_sections = {i for i, s in enumerate(sections) if s["name"] in (".text", ".rodata")}
    totals = {}
    for s in syms:
        if s["shndx"] in code_sections:
            k = origin(s["name"])
            totals[k] = totals.get(k, 0) + s["size"]
    return totals


def read_sizes(path):
    data, sections, syms = elf_symbols(path)
    sym = next(s for s in syms if s["name"] == "FOOTPRINT_SIZES")
    sec = sections[sym["shndx"]]
    off = sec["offset"] + sym["value"] - sec["addr"]
    nx, client, client_min = struct.unpack_from("<III", data, off)
    return {"nx_smtp_client": nx, "rust_client": client, "rust_client_min": client_min}


# ------------------------------------------------------------------ build and run

# Optional features of the full profile measured as rows of their own on Cortex-M4 (the
# footprint crate's feature of the same name turns zsmtp's on): name, what it adds.
FEATURE_ROWS = [("oauth2", "OAuth 2.0: XOAUTH2, OAUTHBEARER"), ("mime", "MIME: attachments, HTML; this image sends none"),
                ("outbox", "the outbox's C API: queue, status, list, flush, drop")]


def build(target, baseline, small=False, feature=None):
    tdir = os.path.join(HERE, "target", "baseline" if baseline else "small" if small else feature or "full")
    argv = ["cargo", "build", "--release", "--quiet", "--target", target, "--target-dir", tdir]
    if baseline:
        argv += ["--features", "baseline"]
    if small:
        argv += ["--features", "small"]
    if feature:
        argv += ["--features", feature]
    # The footprint image authenticates with AUTH PLAIN against the scripted server on a
    # plain link, as CONFIG_SMTP_CLIENT_ALLOW_PLAINTEXT_AUTH=y allows.
    env = dict(os.environ, ZSMTP_ALLOW_PLAINTEXT_AUTH="1")
    r = subprocess.run(argv, cwd=HERE, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"footprint: cargo build for {target} failed:\n{r.stderr[-3000:]}")
    return os.path.join(tdir, target, "release", "footprint")


def run_qemu(elf):
    qemu = shutil.which("qemu-system-arm")
    if not qemu:
        return {"measured": False, "why": "qemu-system-arm not installed"}
    try:
        r = subprocess.run([qemu, "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
                            "-semihosting-config", "enable=on,target=native", "-kernel", elf],
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"measured": False, "why": "QEMU did not finish within 60 s"}
    m = re.search(r"stack=(\d+) create=(\d+) send=(\d+) delete=(\d+) mails=(\d+) bytes=(\d+)(?: outbox=(\d+))?",
                  r.stdout + r.stderr)
    if not m or r.returncode != 0:
        return {"measured": False, "why": f"QEMU exit {r.returncode}: {(r.stdout + r.stderr).strip()[-300:]}"}
    stack, create, send, delete, mails, sent = map(int, m.groups()[:6])
    res = {"measured": True, "bytes": stack, "create": create, "send": send, "delete": delete, "mails": mails,
           "bytes_sent": sent, "machine": "qemu-system-arm -M mps2-an386 (Cortex-M4)"}
    if m.group(7) is not None:
        # The image with the feature outbox: its services' result (0, or step << 16 | status).
        res["outbox"] = int(m.group(7))
    return res


# ------------------------------------------------------------------ report

def measure(targets, stack):
    res = {"targets": {}, "anchors": {"netx": NETX, "lwip": LWIP}}
    for t in targets:
        log(f"building {t} (image and baseline)")
        full, base = build(t, False), build(t, True)
        a, b = section_sizes(full), section_sizes(base)
        diff = {k: a[k] - b[k] for k in a}
        oa, ob = by_origin(full), by_origin(base)
        origins = {k: oa.get(k, 0) - ob.get(k, 0) for k in set(oa) | set(ob)}
        origins = {k: v for k, v in origins.items() if v}
        clib = origins.get("C library routines", 0)
        res["targets"][t] = {**diff, "code": diff["text"] + diff["rodata"], "code_without_clib": diff["text"] + diff["rodata"] - clib,
                             "origins": dict(sorted(origins.items(), key=lambda kv: -kv[1])), "sizes": read_sizes(full),
                             "image": os.path.relpath(full, os.path.dirname(HERE))}
        if stack and t == M4:
            log("running the image under QEMU (mps2-an386) for the stack")
            res["stack"] = run_qemu(full)
        if t == M4:
            log(f"building {t} with the C API's small profile (feature small)")
            small = build(t, False, small=True)
            ta, to = section_sizes(small), by_origin(small)
            tdiff = {k: ta[k] - b[k] for k in ta}
            tclib = to.get("C library routines", 0) - ob.get("C library routines", 0)
            res["small"] = {**tdiff, "code": tdiff["text"] + tdiff["rodata"],
                           "code_without_clib": tdiff["text"] + tdiff["rodata"] - tclib,
                           "image": os.path.relpath(small, os.path.dirname(HERE))}
            if stack:
                res["small"]["stack"] = run_qemu(small)
            for feature, _ in FEATURE_ROWS:
                log(f"building {t} with the feature {feature}")
                image = build(t, False, feature=feature)
                fa = section_sizes(image)
                fdiff = {k: fa[k] - b[k] for k in fa}
                code = fdiff["text"] + fdiff["rodata"]
                res.setdefault("features", {})[feature] = {**fdiff, "code": code, "over_default": code - res["targets"][t]["code"],
                                                           "image": os.path.relpath(image, os.path.dirname(HERE))}
                if stack:
                    # With mime the image sends through nx_smtp_mail_send_extended: the stack of
                    # the attachment path; with outbox the peak of the outbox's services too
                    # (its create's recovery, a flush delivering one mail).
                    res["features"][feature]["stack"] = run_qemu(image)
    res["markdown"] = markdown(res)
    return res


def markdown(res):
    L = ["| Target | .text | .rodata | .data | .bss | Code (.text+.rodata) | Without C-library routines | vs NetX 4.7 KB | vs lwIP 3.4 KB |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for t, r in res["targets"].items():
        L.append(f"| {t} | {r['text']:,} | {r['rodata']:,} | {r['data']} | {r['bss']} | {r['code']:,} | "
                 f"{r['code_without_clib']:,} | {r['code'] / NETX['text']:.2f}x | {r['code'] / LWIP['text']:.2f}x |")
    for feature, what in FEATURE_ROWS:
        f = res.get("features", {}).get(feature)
        if f:
            L.append(f"| {M4}, full profile + `{feature}` ({what}) | {f['text']:,} | {f['rodata']:,} | {f['data']} | "
                     f"{f['bss']} | {f['code']:,} (+{f['over_default']:,}) | | | |")
    small = res.get("small")
    if small:
        L.append(f"| {M4}, small profile (`small`) | {small['text']:,} | {small['rodata']:,} | {small['data']} | "
                 f"{small['bss']} | {small['code']:,} | {small['code_without_clib']:,} | "
                 f"{small['code'] / NETX['text']:.2f}x | {small['code'] / LWIP['text']:.2f}x |")
    L.append("")
    m4 = res["targets"].get(M4)
    if m4:
        o = ", ".join(f"{k} {v:,}" for k, v in m4["origins"].items())
        L.append(f"Cortex-M4 code by origin (bytes): {o}. C-library routines (memcpy, memmove, 64-bit division, "
                 "...) come from the C library in a C firmware and are not counted in NetX's figure.")
        L.append("")
        s = m4["sizes"]
        ram_netx = NETX["bss"] + NETX["client"]
        ram_lwip = LWIP["bss"] + LWIP["heap_per_mail"]
        statics = m4["data"] + m4["bss"]
        L.append("| RAM (Cortex-M4) | zsmtp | NetX Duo | lwIP | zsmtp / NetX | zsmtp / lwIP |")
        L.append("|---|---:|---:|---:|---:|---:|")
        L.append(f"| static (.data+.bss) | {statics} | {NETX['bss']} | {LWIP['bss']} | "
                 f"{statics / NETX['bss']:.2f}x | {statics / LWIP['bss']:.2f}x |")
        L.append(f"| a client: C API `NX_SMTP_CLIENT` (default limits, strings copied in) | {s['nx_smtp_client']:,} | "
                 f"{NETX['client']} | {LWIP['heap_per_mail']} (heap per mail) | "
                 f"{s['nx_smtp_client'] / NETX['client']:.2f}x | {s['nx_smtp_client'] / LWIP['heap_per_mail']:.2f}x |")
        L.append(f"| a client: Rust `Client` (RX 512 + TX 1024) / smallest (512 + 512) | {s['rust_client']:,} / "
                 f"{s['rust_client_min']:,} | | | | |")
        L.append(f"| static + one C API client | {statics + s['nx_smtp_client']:,} | {ram_netx:,} | {ram_lwip:,} | "
                 f"{(statics + s['nx_smtp_client']) / ram_netx:.2f}x | {(statics + s['nx_smtp_client']) / ram_lwip:.2f}x |")
        L.append(f"| static + smallest Rust client | {statics + s['rust_client_min']:,} | {ram_netx:,} | {ram_lwip:,} | "
                 f"{(statics + s['rust_client_min']) / ram_netx:.2f}x | {(statics + s['rust_client_min']) / ram_lwip:.2f}x |")
        L.append("")
    st = res.get("stack")
    if st and st.get("measured"):
        L.append(f"Peak stack of create + send + delete through the C API (EHLO, AUTH PLAIN, pipelined envelope, "
                 f"headers, body, terminator with QUIT; {st['bytes_sent']} bytes sent to an in-memory scripted "
                 f"server), measured by stack painting on {st['machine']}: **{st['bytes']:,} bytes**.")
    elif st:
        L.append(f"Peak stack on Cortex-M4: not measured ({st['why']}); host figure: 1.4 KB (x86_64, release, "
                 "tests/stack_usage.rs).")
    ts = (small or {}).get("stack")
    if ts and ts.get("measured"):
        L.append("")
        L.append(f"The small profile (`small`: NetX Duo's scope, lockstep, {ts['bytes_sent']} bytes sent): "
                 f"peak stack **{ts['bytes']:,} bytes**, same client layout.")
    return L


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--no-stack", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    res = measure(a.targets.split(","), not a.no_stack)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
    print("\n".join(res["markdown"]))


if __name__ == "__main__":
    main()
