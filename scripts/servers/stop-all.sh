#!/usr/bin/env bash
# Stops every server start-all.sh started (by PID). Succeeds when nothing runs; fails only if
# a server survives SIGKILL.
set -uo pipefail
dir=$(dirname "$0")
rc=0
"$dir/aiosmtpd-stop.sh" || rc=1
"$dir/postfix-stop.sh" || rc=1
exit $rc
