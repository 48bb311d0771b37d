#!/usr/bin/env bash
# Stops the aiosmtpd started by aiosmtpd-start.sh (by its PID). Succeeds when nothing runs.
set -uo pipefail
. "$(dirname "$0")/common.sh"
pidf="$AIO_DIR/pid"
[ -f "$pidf" ] || exit 0
pid=$(tr -d ' \n' < "$pidf")
if pid_alive "$pid" && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "aiosmtpd_server.py .*$AIO_DIR/out"; then
  stop_pid "$pid" aiosmtpd || exit 1
  echo "aiosmtpd-stop: $pid stopped"
fi
rm -f "$pidf"
