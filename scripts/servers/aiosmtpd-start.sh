#!/usr/bin/env bash
# Starts aiosmtpd_server.py on 127.0.0.1:2625 (plain/STARTTLS) and :2665 (implicit TLS),
# user alice:secret123, storing messages in $SMTP_TEST_DIR/aiosmtpd/out (emptied first).
# Waits (bounded, 15 s) until both ports accept. Prints the PID.
set -euo pipefail
. "$(dirname "$0")/common.sh"
"$SERVERS_DIR/aiosmtpd-stop.sh" >/dev/null
for p in "${AIOSMTPD_PORTS[@]}"; do
  if port_open "$p"; then
    echo "aiosmtpd-start: 127.0.0.1:$p is already in use:" >&2
    ss -ltnp "sport = :$p" >&2 || true
    exit 1
  fi
done
"$SERVERS_DIR/gen-certs.sh" "$CERT_DIR"
rm -rf "$AIO_DIR"; mkdir -p "$AIO_DIR/out"
AIOSMTPD_USERS="$SASL_USER:$SASL_PASS" setsid "$ZSMTP_VENV/bin/python" "$SERVERS_DIR/aiosmtpd_server.py" \
  --host 127.0.0.1 --port "${AIOSMTPD_PORTS[0]}" --tls-port "${AIOSMTPD_PORTS[1]}" \
  --cert "$CERT_DIR/cert.pem" --key "$CERT_DIR/key.pem" --out "$AIO_DIR/out" \
  > "$AIO_DIR/log" 2>&1 < /dev/null &
pid=$!
for p in "${AIOSMTPD_PORTS[@]}"; do
  if ! wait_port "$p" 15; then
    echo "aiosmtpd-start: port $p not accepting after 15 s" >&2
    cat "$AIO_DIR/log" >&2
    stop_pid "$pid" aiosmtpd || true
    exit 1
  fi
done
echo "$pid" > "$AIO_DIR/pid"
echo "aiosmtpd-start: pid $pid, ports ${AIOSMTPD_PORTS[*]}, out $AIO_DIR/out"
