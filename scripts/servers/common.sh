# Sourced by the scripts in scripts/servers/ (not executable on its own).
# One directory holds everything the test servers create: $SMTP_TEST_DIR.
#
#   $SMTP_TEST_DIR/certs/     test CA (ca.pem) + leaf for localhost/127.0.0.1 (cert.pem, key.pem)
#   $SMTP_TEST_DIR/pf/        the Postfix instance (etc/, spool/, mail/ = Maildirs, maillog)
#   $SMTP_TEST_DIR/aiosmtpd/  aiosmtpd's pid file, log, and out/ (NNNNNN.eml + NNNNNN.json)
#
# Loopback only. Ports: Postfix 2525 (plain, AUTH in clear), 2587 (STARTTLS + AUTH
# required), 2465 (implicit TLS), 2526 (as 2525 without 8BITMIME); aiosmtpd 2625
# (plain/STARTTLS), 2665 (implicit TLS).
SERVERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export SMTP_TEST_DIR=${SMTP_TEST_DIR:-/tmp/zsmtp-test}
export ZSMTP_VENV=${ZSMTP_VENV:-$HOME/.cache/zsmtp-venv}
CERT_DIR=$SMTP_TEST_DIR/certs
PF=$SMTP_TEST_DIR/pf
AIO_DIR=$SMTP_TEST_DIR/aiosmtpd
POSTFIX_PORTS=(2525 2587 2465 2526)
AIOSMTPD_PORTS=(2625 2665)
SASL_USER=alice
SASL_PASS=secret123
SASL_REALM=example.test

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_port PORT SECONDS: bounded wait until PORT accepts; false on timeout.
wait_port() {
  local deadline=$((SECONDS + $2))
  until port_open "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# pid_alive PID
pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# stop_pid PID NAME: SIGTERM, bounded wait (5 s), then SIGKILL (2 s more). False if it survives.
stop_pid() {
  local pid=$1 name=$2 i
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do pid_alive "$pid" || return 0; sleep 0.05; done
  echo "$name ($pid) ignored SIGTERM for 5 s: SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do pid_alive "$pid" || return 0; sleep 0.05; done
  echo "$name ($pid) still alive" >&2
  return 1
}
