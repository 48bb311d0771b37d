#!/usr/bin/env python3
"""Checks that a benchmark run reported every row with its ratio (run by scripts/test
after `scripts/bench --quick`, so that every CI run on a fresh machine proves the benchmark
installs what it needs, runs end to end and reports everything).

    bench/check.py RESULTS_JSON

It checks that the rows are there and their figures are numbers, never how fast anything was:
speed goals live in the benchmark's own table, not in a test. Exit status 1 lists what is
missing."""
import json
import math
import sys

THROUGHPUT = {("zsmtp", "oneshot"), ("smtp-source", "oneshot"), ("smtplib", "oneshot"), ("lettre", "oneshot"),
              ("zsmtp-cli", "oneshot"), ("curl", "oneshot"), ("zsmtp", "kept"), ("smtp-source", "kept"),
              ("smtplib", "kept"), ("lettre", "kept"), ("curl", "kept")}
LATENCY = {("zsmtp-auth", "oneshot"), ("zsmtp-auth-lockstep", "oneshot"), ("zsmtp", "oneshot"),
           ("zsmtp-lockstep", "oneshot"), ("smtplib", "oneshot"), ("lettre", "oneshot"), ("curl", "oneshot"),
           ("smtp-source", "oneshot"), ("zsmtp", "kept"), ("zsmtp-lockstep", "kept"), ("smtplib", "kept"),
           ("lettre", "kept"), ("curl", "kept")}
LARGE = {"zsmtp", "zsmtp-tx8k", "raw"}
ATTACHMENT = {"zsmtp", "zsmtp-tx8k", "zsmtp-cli", "raw", "lettre", "smtplib"}
TARGETS = {"thumbv7em-none-eabihf", "thumbv6m-none-eabi", "riscv32imac-unknown-none-elf"}


def number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check(res):
    problems = []

    def rows(group, keys, fields):
        seen = set()
        for row in res.get(group, []):
            key = (row.get("client"), row.get("mode")) if isinstance(next(iter(keys)), tuple) else row.get("client")
            seen.add(key)
            for field in fields:
                if not number(row.get(field)):
                    problems.append(f"{group} {key}: {field} is {row.get(field)!r}, not a number")
        for key in sorted(keys - seen, key=str):
            problems.append(f"{group}: no row for {key}")

    rows("throughput", THROUGHPUT, ["mails_per_s", "cpu_ms_per_mail", "ours_over_this"])
    rows("latency", LATENCY, ["ms_per_mail", "round_trips_per_mail", "minimum"])
    rows("large", LARGE, ["mb_per_s", "cpu_s_per_mb", "of_raw"])
    rows("attachment", ATTACHMENT, ["mb_per_s", "cpu_s_per_mb", "max_rss", "of_raw", "ours_over_this", "rss_over_ours"])
    footprint = res.get("footprint") or {}
    targets = footprint.get("targets") or {}
    for target in sorted(TARGETS - set(targets)):
        problems.append(f"footprint: no row for {target}")
    for target, row in targets.items():
        for field in ("text", "rodata", "data", "bss", "code"):
            if not number(row.get(field)):
                problems.append(f"footprint {target}: {field} is {row.get(field)!r}")
    small = footprint.get("small") or {}
    if not number(small.get("code")) or not number((small.get("stack") or {}).get("bytes")):
        problems.append(f"footprint: the small profile row or its stack is missing ({small!r})")
    if not number((footprint.get("stack") or {}).get("bytes")):
        problems.append(f"footprint: the peak stack was not measured ({footprint.get('stack')!r})")
    markdown = "\n".join(footprint.get("markdown") or [])
    if "vs NetX" not in markdown or "vs lwIP" not in markdown:
        problems.append("footprint: the ratios to NetX Duo and lwIP are missing")
    goals = res.get("goals") or []
    if len(goals) < 7 or not all(isinstance(g.get("met"), bool) for g in goals):
        problems.append(f"goals: expected 7 judged goals, got {len(goals)}")
    if not number(res.get("seconds")):
        problems.append("the run's duration is missing")
    return problems


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: bench/check.py RESULTS_JSON")
    with open(sys.argv[1]) as f:
        res = json.load(f)
    problems = check(res)
    kind = "quick" if res.get("quick") else "full"
    for p in problems:
        print(f"bench-check: {p}", file=sys.stderr)
    if problems:
        print(f"bench-check: FAIL: {len(problems)} problems in the {kind} run", file=sys.stderr)
        sys.exit(1)
    met = sum(1 for g in res["goals"] if g["met"])
    print(f"bench-check: ok: every row reported ({kind} run, {res['seconds']:.0f} s, {met}/{len(res['goals'])} goals met)")


if __name__ == "__main__":
    main()
