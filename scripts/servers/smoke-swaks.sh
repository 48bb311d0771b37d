#!/usr/bin/env bash
# Checks the running test servers with swaks, independently of the project's client:
#   Postfix 2525: AUTH PLAIN and AUTH LOGIN accepted (delivered into the catch-all Maildir,
#                 Received says ESMTPA), a wrong password gets 535, an unknown strict.test
#                 user gets 550; 2587: STARTTLS (CA verified) + AUTH; 2465: implicit TLS + AUTH.
#   aiosmtpd 2625 (AUTH PLAIN) and 2665 (implicit TLS): message stored as .eml/.json.
# swaks' transcript (which holds the base64 credentials) is never printed; on failure only
# the server's error lines are. Every wait is bounded.
set -euo pipefail
. "$(dirname "$0")/common.sh"
CATCHALL=$PF/mail/example.test/catchall
fails=0

# swaks_run EXPECT DESCRIPTION swaks-args...: EXPECT is "ok" (accepted) or an extended regex
# for the server's refusal, matched against swaks' "<** CODE text" line.
swaks_run() {
  local expect=$1 what=$2 out rc=0 good=false
  shift 2
  out=$(timeout 30 swaks --silent 1 --timeout 20 --server 127.0.0.1 "$@" 2>&1) || rc=$?
  if [ "$expect" = ok ]; then
    [ $rc -eq 0 ] && good=true
  else
    [ $rc -ne 0 ] && grep -Eq "^<\*\* *($expect)" <<<"$out" && good=true
  fi
  if $good; then
    echo "ok    $what"
  else
    echo "FAIL  $what (swaks exit $rc)"
    grep -E '^(<\*\*|\*\*\*)' <<<"$out" | sed 's/^/      /' || true
    fails=$((fails + 1))
  fi
}

count() { { find "$1" -type f 2>/dev/null || true; } | wc -l; }

wait_count() {  # wait_count DIR N SECONDS
  local deadline=$((SECONDS + $3))
  until [ "$(count "$1")" -ge "$2" ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

auth=(--auth-user "$SASL_USER" --auth-password "$SASL_PASS")
from=(--from smoke@example.test)
before=$(count "$CATCHALL")
swaks_run ok "Postfix 2525 AUTH PLAIN" --port 2525 "${from[@]}" --to smoke-plain@example.test --auth PLAIN "${auth[@]}"
swaks_run ok "Postfix 2525 AUTH LOGIN" --port 2525 "${from[@]}" --to smoke-login@example.test --auth LOGIN "${auth[@]}"
swaks_run ok "Postfix 2587 STARTTLS (CA verified) + AUTH PLAIN" --port 2587 --tls --tls-verify \
  --tls-ca-path "$CERT_DIR/ca.pem" "${from[@]}" --to smoke-starttls@example.test --auth PLAIN "${auth[@]}"
swaks_run ok "Postfix 2465 implicit TLS + AUTH LOGIN" --port 2465 --tls-on-connect "${from[@]}" \
  --to smoke-tls@example.test --auth LOGIN "${auth[@]}"
swaks_run "535 " "Postfix 2525 wrong password refused with 535" --port 2525 "${from[@]}" --to smoke@example.test \
  --auth PLAIN --auth-user "$SASL_USER" --auth-password "wrong-$RANDOM"
swaks_run "550 5\.1\.1 " "Postfix 2525 unknown strict.test user refused with 550 5.1.1" --port 2525 "${from[@]}" --to nobody@strict.test
if wait_count "$CATCHALL" $((before + 4)) 30; then
  echo "ok    4 mails delivered into $CATCHALL"
  newest=$(ls -t "$CATCHALL"/new/* | head -1)
  grep -q 'with ESMTPS\?A id' "$newest" && echo "ok    Received says ESMTPA/ESMTPSA" \
    || { echo "FAIL  no ESMTPA in Received of $newest"; fails=$((fails + 1)); }
else
  echo "FAIL  only $(( $(count "$CATCHALL") - before )) of 4 mails delivered within 30 s"
  fails=$((fails + 1))
fi

before=$(count "$AIO_DIR/out")
swaks_run ok "aiosmtpd 2625 AUTH PLAIN" --port 2625 "${from[@]}" --to smoke@aio.test --auth PLAIN "${auth[@]}"
swaks_run ok "aiosmtpd 2665 implicit TLS + AUTH LOGIN" --port 2665 --tls-on-connect "${from[@]}" \
  --to smoke@aio.test --auth LOGIN "${auth[@]}"
swaks_run "550 " "aiosmtpd 2625 reject* recipient refused with 550" --port 2625 "${from[@]}" --to reject-me@aio.test
if [ "$(count "$AIO_DIR/out")" -eq $((before + 4)) ]; then
  echo "ok    aiosmtpd stored 2 messages (.eml + .json each)"
else
  echo "FAIL  aiosmtpd stored $(( $(count "$AIO_DIR/out") - before )) files, expected 4"
  fails=$((fails + 1))
fi

[ "$fails" -eq 0 ] && { echo "smoke-swaks: servers OK"; exit 0; }
echo "smoke-swaks: $fails check(s) failed" >&2
exit 1
