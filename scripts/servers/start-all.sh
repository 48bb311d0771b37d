#!/usr/bin/env bash
# Stops whatever a previous run of these scripts left, then starts a fresh Postfix instance
# (empty Maildirs) and aiosmtpd (empty out/), and waits (bounded) until every port accepts:
#   Postfix 127.0.0.1:2525 2587 2465 2526, aiosmtpd 127.0.0.1:2625 2665.
# On failure everything started here is stopped again. Prints the environment the tests read.
set -euo pipefail
. "$(dirname "$0")/common.sh"
"$SERVERS_DIR/stop-all.sh" >/dev/null
ok=false
trap '$ok || "$SERVERS_DIR/stop-all.sh" >/dev/null 2>&1 || true' EXIT
"$SERVERS_DIR/postfix-setup.sh"
"$SERVERS_DIR/postfix-start.sh"
"$SERVERS_DIR/aiosmtpd-start.sh"
for p in "${POSTFIX_PORTS[@]}" "${AIOSMTPD_PORTS[@]}"; do
  wait_port "$p" 15 || { echo "start-all: port $p not accepting" >&2; exit 1; }
done
ok=true
cat <<EOT
start-all: all servers up
ZSMTP_TEST_DIR=$SMTP_TEST_DIR
ZSMTP_MAILDIR=$PF/mail
ZSMTP_AIOSMTPD_OUT=$AIO_DIR/out
ZSMTP_CA=$CERT_DIR/ca.pem
EOT
