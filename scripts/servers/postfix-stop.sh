#!/usr/bin/env bash
# Stops the Postfix instance of $SMTP_TEST_DIR by its master PID (the master stops its
# children). Succeeds when nothing runs. The PID is trusted only if that process is a Postfix
# master whose working directory is this instance's queue directory (no stale-PID accidents).
set -uo pipefail
. "$(dirname "$0")/common.sh"
pidf="$PF/spool/pid/master.pid"
[ -f "$pidf" ] || exit 0
pid=$(tr -d ' \n' < "$pidf")
if pid_alive "$pid" && [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$PF/spool" ] \
   && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = master ]; then
  stop_pid "$pid" "postfix master" || exit 1
  echo "postfix-stop: master $pid stopped"
fi
rm -f "$pidf"
