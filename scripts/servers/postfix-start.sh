#!/usr/bin/env bash
# Starts the Postfix instance made by postfix-setup.sh and waits (bounded, 15 s) until 2525,
# 2587, 2465 and 2526 accept connections. Prints the master PID.
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ -f "$PF/etc/main.cf" ] || { echo "postfix-start: run postfix-setup.sh first" >&2; exit 1; }
for p in "${POSTFIX_PORTS[@]}"; do
  if port_open "$p"; then
    echo "postfix-start: 127.0.0.1:$p is already in use:" >&2
    ss -ltnp "sport = :$p" >&2 || true
    exit 1
  fi
done
if ! postfix -c "$PF/etc" start >/dev/null 2>&1; then
  script -qec "postfix -c $PF/etc start" /dev/null >&2 || true
  tail -20 "$PF/maillog" >&2 2>/dev/null || true
  exit 1
fi
for p in "${POSTFIX_PORTS[@]}"; do
  wait_port "$p" 15 || { echo "postfix-start: port $p not accepting after 15 s" >&2; tail -20 "$PF/maillog" >&2 || true; exit 1; }
done
echo "postfix-start: master pid $(tr -d ' ' < "$PF/spool/pid/master.pid"), ports ${POSTFIX_PORTS[*]}"
