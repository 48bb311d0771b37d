#!/usr/bin/env bash
# Tests of the NetX Duo-compatible C API (include/nxd_smtp_client.h) from C.
#
#   tests/c/run.sh [--no-server]
#
# 1. builds the host static library (scripts/host-capi-lib) three times: with std sockets and mutex
#    (features capi), with the Zephyr socket shim's POSIX twin (features capi,zsock: the
#    code path of the Zephyr build, run on the host), and the small profile (feature small,
#    over the POSIX twin too), against which NetX's example is compiled unchanged and run;
# 2. compiles the header alone (C99 and C++) and each program in tests/c with
#    gcc -std=c99 -Wall -Wextra -Werror -pedantic, linked against the library;
# 3. runs capi_checks (argument checks with their exact status values, layout check), and a
#    layout check that must FAIL when the C side is compiled with other limits, and must pass
#    when the library is rebuilt with the same limits (ZSMTP_* = -DNX_SMTP_CLIENT_*);
# 4. against the test Postfix on 127.0.0.1:2525 (started by scripts/test or
#    scripts/servers/start-all.sh; ZSMTP_MAILDIR = its Maildir base): NetX Duo's example
#    program (IPv4; the USE_IPV6 variant aims at ::1), capi_checks --server (both libraries;
#    concurrent sends on one client included), and checks that the mails landed in
#    $ZSMTP_MAILDIR/example.test/bob with their subject, headers and body;
# 3b. the shim's socket layer under faults a host cannot produce (tests/c/shim_device.c: ENOBUFS,
#    the resolver's timeout), and in step 5 its TLS client with every second send refused;
# 3c. the outbox's RAM storage of the Zephyr shim (tests/c/outbox_ram.c over
#    shim/common/smtp_outbox_ram.c): write, replace, read, delete, full, claim, threads;
# 4b. the shell's outbox commands (shim/zephyr/smtp_shell.c over stubs of Zephyr's shell) against
#    the zsock-shim library's outbox, the flush delivering to Postfix (tests/c/shell_outbox.c);
# 5. TLS through nx_smtp_client_tls_set, both libraries: capi_checks --tls-server against
#    Postfix 127.0.0.1:2587 (STARTTLS) and 2465 (implicit), trusting the test CA $ZSMTP_CA
#    (given to the zsock-shim library as ZSMTP_CA_FILE, to the std one as SSL_CERT_FILE and as
#    ZSMTP_CA_FILE; an unreadable ZSMTP_CA_FILE must fail closed with 0xC4 in both); the
#    mails must arrive with "with ESMTPSA" in Postfix's Received header.
#
# --no-server runs steps 1-3 only (and says so). Without it, a missing server is a failure.
# Every wait is bounded. Exits non-zero on any failure; the last line is "N passed, M failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SERVER=1
case ${1:-} in
  --no-server) SERVER=0 ;;
  "") ;;
  *) echo "usage: $0 [--no-server]" >&2; exit 2 ;;
esac

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
  exit $?
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/zsmtp-capi-c.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

CFLAGS=(-std=c99 -Wall -Wextra -Werror -pedantic -I "$ROOT/include")
LIBS=(-lpthread -ldl -lm)
# The zsock-shim library's TLS is the host build of mbedTLS that build.rs of zsmtp links
# (scripts/mbedtls-host: 3.6.0; a 4.x installation has libtfpsacrypto instead of libmbedcrypto).
MBEDTLS_DIR=${ZSMTP_MBEDTLS_DIR:-$HOME/.cache/zsmtp-mbedtls-3.6.0}
MBEDTLS_CRYPTO=mbedcrypto
[ -f "$MBEDTLS_DIR/lib/libtfpsacrypto.a" ] && MBEDTLS_CRYPTO=tfpsacrypto
ZLIBS=(-L"$MBEDTLS_DIR/lib" -lmbedtls -lmbedx509 "-l$MBEDTLS_CRYPTO" -lpthread)
SRC=$ROOT/tests/c

# ---- 1. the library ------------------------------------------------------------------------
echo "== building the host C library (scripts/host-capi-lib)"
if ! LIB=$(cd / && timeout 900 "$ROOT/scripts/host-capi-lib" | tail -n1) || [ ! -f "$LIB" ]; then
  fail "scripts/host-capi-lib builds the library"
  finish
fi
pass "scripts/host-capi-lib builds the library ($LIB)"
echo "== building the host C library over the zsock shim, with the outbox (ZSMTP_CAPI_FEATURES=capi,zsock,outbox)"
if ZLIB=$(cd / && ZSMTP_CAPI_FEATURES=capi,zsock,outbox CARGO_TARGET_DIR=$ROOT/target/capi-zsock \
          timeout 900 "$ROOT/scripts/host-capi-lib" | tail -n1) && [ -f "$ZLIB" ]; then
  pass "scripts/host-capi-lib builds the zsock-shim library ($ZLIB)"
else
  ZLIB=
  fail "scripts/host-capi-lib builds the zsock-shim library"
fi

echo "== building the host C library, small profile (ZSMTP_CAPI_FEATURES=small)"
if TLIB=$(cd / && ZSMTP_CAPI_FEATURES=small CARGO_TARGET_DIR=$ROOT/target/capi-small \
          timeout 900 "$ROOT/scripts/host-capi-lib" | tail -n1) && [ -f "$TLIB" ]; then
  pass "scripts/host-capi-lib builds the small-profile library ($TLIB)"
else
  TLIB=
  fail "scripts/host-capi-lib builds the small-profile library"
fi

# ---- 2. compile --------------------------------------------------------------------------
echo "== compiling"
header_c() { echo '#include "nxd_smtp_client.h"' | gcc "${CFLAGS[@]}" -x c -fsyntax-only -; }
check "header compiles alone as C99 (-Wall -Wextra -Werror -pedantic)" header_c
if command -v g++ >/dev/null; then
  header_cxx() {
    printf '#include "nxd_smtp_client.h"\nint main() { NX_SMTP_CLIENT c; return (int)sizeof c > 0 ? 0 : nx_smtp_client_delete(&c); }\n' |
      g++ -std=c++11 -Wall -Wextra -Werror -pedantic -I "$ROOT/include" -x c++ -fsyntax-only -
  }
  check "header compiles as C++11" header_cxx
fi

# compile NAME SOURCE [EXTRA FLAGS...] [-- LIBRARY]
compile() {
  local name=$1 src=$2 lib=$LIB
  shift 2
  local extra=() libs=("${LIBS[@]}")
  while [ $# -gt 0 ]; do
    if [ "$1" = "--lib" ]; then lib=$2; shift 2; else extra+=("$1"); shift; fi
  done
  if [ -n "$ZLIB" ] && [ "$lib" = "$ZLIB" ]; then libs=("${ZLIBS[@]}" "${LIBS[@]}"); fi
  gcc "${CFLAGS[@]}" "${extra[@]}" -o "$WORK/$name" "$src" "$lib" "${libs[@]}"
}
check "compile netx_example.c" compile netx_example "$SRC/netx_example.c"
check "compile netx_example.c -DUSE_IPV6" compile netx_example_v6 "$SRC/netx_example.c" -DUSE_IPV6
if [ -n "$TLIB" ]; then
  small_compile() { gcc "${CFLAGS[@]}" -o "$WORK/netx_example_small" "$SRC/netx_example.c" "$TLIB" "${ZLIBS[@]}" "${LIBS[@]}"; }
  check "compile netx_example.c against the small-profile library (unchanged source)" small_compile
fi
check "compile capi_checks.c" compile capi_checks "$SRC/capi_checks.c"
if [ -n "$ZLIB" ]; then
  check "compile capi_checks.c against the zsock-shim library (-DNX_SMTP_CLIENT_OUTBOX=1: NX_SMTP_OUTBOX's layout)" \
    compile capi_checks_zsock "$SRC/capi_checks.c" -DNX_SMTP_CLIENT_OUTBOX=1 --lib "$ZLIB"
fi
check "compile capi_checks.c -DNX_SMTP_CLIENT_MAX_PASSWORD=64 (deliberate mismatch)" \
  compile capi_checks_mismatch "$SRC/capi_checks.c" -DNX_SMTP_CLIENT_MAX_PASSWORD=64

# run_counted NAME TIMEOUT PROGRAM ARGS...: runs a program printing PASS/FAIL lines and a last
# line "...: N passed, M failed"; adds its counts to ours. A crash or a missing summary fails.
run_counted() {
  local name=$1 limit=$2 out rc=0
  shift 2
  out=$(timeout --kill-after=5 "$limit" "$@" 2>&1) || rc=$?
  printf '%s\n' "$out" | sed 's/^/    /'
  local summary n m
  summary=$(printf '%s\n' "$out" | tail -n1)
  if [[ $summary =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    n=${BASH_REMATCH[1]}
    m=${BASH_REMATCH[2]}
    PASSED=$((PASSED + n))
    FAILED=$((FAILED + m))
    if [ "$rc" -ne 0 ] && [ "$m" -eq 0 ]; then fail "$name: exit status $rc"; fi
    if [ "$rc" -eq 0 ] && [ "$m" -ne 0 ]; then fail "$name: exit status 0 despite failures"; fi
  else
    fail "$name: no summary line (exit status $rc)"
  fi
}

# ---- 3. argument and layout checks (no network) -------------------------------------------
echo "== capi_checks (argument and layout checks)"
if [ -x "$WORK/capi_checks" ]; then
  run_counted "capi_checks" 120 "$WORK/capi_checks"
fi
if [ -x "$WORK/capi_checks_zsock" ]; then
  echo "== capi_checks, zsock-shim library"
  run_counted "capi_checks (zsock)" 120 "$WORK/capi_checks_zsock"
fi

echo "== the shim's sockets and resolver under faults (tests/c/shim_device.c: ENOBUFS, DNS timeout)"
shim_device_compile() {
  gcc -std=c11 -Wall -Wextra -Werror -I "$ROOT/shim/include" -I "$ROOT/shim/common" -I "$ROOT/shim/posix" \
    -I "$MBEDTLS_DIR/include" \
    -o "$WORK/shim_device" "$SRC/shim_device.c" "${ZLIBS[@]}"
}
if check "compile shim_device.c (the POSIX twin with a send that can refuse)" shim_device_compile; then
  run_counted "shim_device" 60 "$WORK/shim_device"
fi

echo "== the outbox's RAM storage (tests/c/outbox_ram.c over shim/common/smtp_outbox_ram.c: Zephyr's CONFIG_SMTP_CLIENT_OUTBOX_RAM)"
outbox_ram_compile() {
  gcc -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -D_POSIX_C_SOURCE=200809L \
    -DCONFIG_SMTP_CLIENT_OUTBOX_RAM_SIZE=256 -DCONFIG_SMTP_CLIENT_OUTBOX_RECORD_MAX=100 -I "$ROOT/shim/include" \
    -o "$WORK/outbox_ram" "$SRC/outbox_ram.c" "$ROOT/shim/common/smtp_outbox_ram.c" -lpthread
}
if check "compile outbox_ram.c with the RAM storage (256-byte arena, 100-byte records)" outbox_ram_compile; then
  run_counted "outbox_ram" 60 "$WORK/outbox_ram"
fi

echo "== layout drift is detected"
if [ -x "$WORK/capi_checks_mismatch" ]; then
  out=$(timeout 30 "$WORK/capi_checks_mismatch" --layout-only 2>&1); rc=$?
  # Its FAIL line is the point of this check: shown as expected, so that no bare FAIL appears.
  printf '%s\n' "$out" | sed 's/^/    expected (deliberate mismatch): /'
  if [ "$rc" -eq 1 ] && grep -q '^FAIL layout: sizeof(NX_SMTP_CLIENT)' <<<"$out"; then
    pass "a -D limit the library was not built with fails the layout check"
  else
    fail "a -D limit the library was not built with fails the layout check (exit $rc)"
  fi
fi

echo "== the same limits on both sides (ZSMTP_MAX_PASSWORD=64 ZSMTP_TX_BUFFER_SIZE=2048)"
ALT_TARGET=$ROOT/target/capi-limits
if ALT_LIB=$(cd / && ZSMTP_MAX_PASSWORD=64 ZSMTP_TX_BUFFER_SIZE=2048 CARGO_TARGET_DIR=$ALT_TARGET \
             timeout 900 "$ROOT/scripts/host-capi-lib" | tail -n1) && [ -f "$ALT_LIB" ]; then
  pass "library built with ZSMTP_MAX_PASSWORD=64 ZSMTP_TX_BUFFER_SIZE=2048"
  if compile capi_checks_limits "$SRC/capi_checks.c" -DNX_SMTP_CLIENT_MAX_PASSWORD=64 \
       -DNX_SMTP_CLIENT_TX_BUFFER_SIZE=2048 --lib "$ALT_LIB"; then
    pass "compile capi_checks.c with the same limits"
    run_counted "capi_checks (limits 64/2048)" 120 "$WORK/capi_checks_limits"
  else
    fail "compile capi_checks.c with the same limits"
  fi
else
  fail "library built with ZSMTP_MAX_PASSWORD=64 ZSMTP_TX_BUFFER_SIZE=2048"
fi

echo "== OAuth 2.0 and attachments (ZSMTP_CAPI_FEATURES=capi,oauth2,mime, ZSMTP_OAUTH2_TOKEN_MAX=2048): the token fields on both sides, NX_SMTP_ATTACHMENT"
OAUTH_TARGET=$ROOT/target/capi-oauth2
if OAUTH_LIB=$(cd / && ZSMTP_CAPI_FEATURES=capi,oauth2,mime ZSMTP_OAUTH2_TOKEN_MAX=2048 CARGO_TARGET_DIR=$OAUTH_TARGET \
               timeout 900 "$ROOT/scripts/host-capi-lib" | tail -n1) && [ -f "$OAUTH_LIB" ]; then
  pass "library built with the features oauth2 and mime and ZSMTP_OAUTH2_TOKEN_MAX=2048"
  if compile capi_checks_oauth2 "$SRC/capi_checks.c" -DNX_SMTP_CLIENT_OAUTH2=1 -DNX_SMTP_CLIENT_ATTACHMENTS=1 \
       -DNX_SMTP_CLIENT_OAUTH2_TOKEN_MAX=2048 --lib "$OAUTH_LIB"; then
    pass "compile capi_checks.c with NX_SMTP_CLIENT_OAUTH2=1, NX_SMTP_CLIENT_ATTACHMENTS=1 and the same token limit"
    run_counted "capi_checks (oauth2, attachments, token limit 2048)" 120 "$WORK/capi_checks_oauth2"
  else
    fail "compile capi_checks.c with NX_SMTP_CLIENT_OAUTH2=1, NX_SMTP_CLIENT_ATTACHMENTS=1 and the same token limit"
  fi
else
  fail "library built with the features oauth2 and mime and ZSMTP_OAUTH2_TOKEN_MAX=2048"
fi

if [ "$SERVER" -eq 0 ]; then
  echo "== --no-server: the real-server tests were not run (nothing counted for them)"
  finish
fi

# ---- 4. against Postfix ----------------------------------------------------------------------
echo "== against Postfix on 127.0.0.1:2525"
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
if ! port_open 127.0.0.1 2525; then
  fail "Postfix listens on 127.0.0.1:2525 (start it: scripts/servers/start-all.sh, or run scripts/test)"
  finish
fi
if [ -z "${ZSMTP_MAILDIR:-}" ] || [ ! -d "$ZSMTP_MAILDIR" ]; then
  fail "ZSMTP_MAILDIR names the Postfix Maildir base (got '${ZSMTP_MAILDIR:-}')"
  finish
fi
BOB=$ZSMTP_MAILDIR/example.test/bob

# Files of bob's Maildir before this run (Postfix creates the directories on first delivery).
list_bob() { find "$BOB" -type f \( -path '*/new/*' -o -path '*/cur/*' \) 2>/dev/null | sort; }
BEFORE=$WORK/bob.before
list_bob >"$BEFORE"

# new_mail_with SUBJECT: prints the new message in bob's Maildir whose Subject header is
# exactly SUBJECT (at most one line per match).
new_mail_with() {
  local f
  while IFS= read -r f; do
    grep -qxF "Subject: $1" "$f" 2>/dev/null && echo "$f"
  done < <(list_bob | comm -13 "$BEFORE" -)
}
# wait_mail SUBJECT SECONDS: bounded wait for that mail; prints its path.
wait_mail() {
  local deadline=$((SECONDS + $2)) found
  while :; do
    found=$(new_mail_with "$1" | head -n1)
    if [ -n "$found" ]; then echo "$found"; return 0; fi
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}
# header NAME FILE: the first header NAME's value (unfolded lines are enough here).
header_of() { sed -n '/^$/q; p' "$2" | grep -i -m1 "^$1:" | sed 's/^[^:]*: *//'; }
body_of() { sed '1,/^$/d' "$1"; }

TAG="t$$x$(date +%s)"

echo "-- netx_example (IPv4, AUTH LOGIN)"
out=$(timeout --kill-after=5 120 "$WORK/netx_example" 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
check "netx_example exits 0" test "$rc" -eq 0
check "netx_example: create, send, delete report NX_SUCCESS" \
  test "$(grep -c 'status 0x00$' <<<"$out")" -eq 3

echo "-- netx_example -DUSE_IPV6 (server ::1)"
out=$(timeout --kill-after=5 120 "$WORK/netx_example_v6" 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
if port_open ::1 2525; then
  check "netx_example (IPv6, ::1:2525 listening) sends" test "$rc" -eq 0
else
  # Postfix listens on IPv4 only: the IPv6 path must reach [::1]:2525 and be refused.
  check "netx_example (IPv6, nothing on ::1:2525) create succeeds" grep -q '^nxd_smtp_client_create status 0x00$' <<<"$out"
  check "netx_example (IPv6, nothing on ::1:2525) send -> NX_NOT_CONNECTED" \
    grep -q '^nx_smtp_mail_send status 0x38$' <<<"$out"
  check "netx_example (IPv6) exits non-zero on the failed send" test "$rc" -ne 0
fi

if [ -x "$WORK/netx_example_small" ]; then
  echo "-- netx_example, small profile (IPv4, AUTH LOGIN)"
  out=$(timeout --kill-after=5 120 "$WORK/netx_example_small" 2>&1); rc=$?
  printf '%s\n' "$out" | sed 's/^/    /'
  check "netx_example (small profile) exits 0" test "$rc" -eq 0
  check "netx_example (small profile): create, send, delete report NX_SUCCESS" \
    test "$(grep -c 'status 0x00$' <<<"$out")" -eq 3
fi

echo "-- capi_checks --server $TAG"
run_counted "capi_checks --server" 300 "$WORK/capi_checks" --server "$TAG"

# The shell's outbox commands (shim/zephyr/smtp_shell.c, compiled against the syntax-check stubs
# of Zephyr's headers) driven through its command table over the zsock-shim library's outbox;
# the flush delivers to Postfix.
if [ -n "$ZLIB" ]; then
  echo "-- the shell's smtp outbox list|flush|drop (tests/c/shell_outbox.c)"
  SHELL_DEFS=(-DCONFIG_SMTP_CLIENT_OUTBOX=1 -DCONFIG_SMTP_CLIENT_NETX_API=1 -DCONFIG_SMTP_CLIENT_SHELL=1
              -DCONFIG_SMTP_CLIENT_MAX_DOMAIN=255 -DCONFIG_SMTP_CLIENT_MAX_ADDRESS=256
              -DCONFIG_SMTP_CLIENT_MAX_USERNAME=128 -DCONFIG_SMTP_CLIENT_MAX_PASSWORD=128
              -DCONFIG_SHELL_CMD_BUFF_SIZE=256)
  shell_outbox_compile() {
    gcc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror "${SHELL_DEFS[@]}" -I "$ROOT/zephyr/check/stub-include" \
      -I "$ROOT/shim/include" -I "$ROOT/include" -o "$WORK/shell_outbox" "$SRC/shell_outbox.c" \
      "$ROOT/shim/zephyr/smtp_shell.c" "$ZLIB" "${ZLIBS[@]}" "${LIBS[@]}"
  }
  if check "compile the shell (smtp_shell.c, stubs) with tests/c/shell_outbox.c" shell_outbox_compile; then
    run_counted "shell_outbox" 120 "$WORK/shell_outbox" "$WORK/shell-outbox" "${TAG}sh outbox alarm"
    check "the shell's flush delivered the queued mail to bob" wait_mail "${TAG}sh outbox alarm" 30
    check "the dropped mail was never sent" test -z "$(new_mail_with dropped)"
  fi
fi
if [ -x "$WORK/capi_checks_zsock" ]; then
  echo "-- capi_checks --server ${TAG}z (zsock-shim library)"
  run_counted "capi_checks --server (zsock)" 300 "$WORK/capi_checks_zsock" --server "${TAG}z"
fi

echo "-- delivered mail in $BOB"
# The example program's mail.
if f=$(wait_mail "NetX Duo SMTP Client Demo" 30); then
  pass "netx_example's mail was delivered to bob"
  b=$(body_of "$f")
  check "  its body is the example's MAIL_BODY" \
    grep -qxF "NetX Duo SMTP client is an SMTP client implementation for embedded devices " <<<"$b"
  check "  its body's second line" grep -qxF "to send email to SMTP servers." <<<"$b"
  check "  From: alice@example.test" grep -qF "alice@example.test" <<<"$(header_of From "$f")"
  check "  To: bob@example.test" grep -qF "bob@example.test" <<<"$(header_of To "$f")"
  check "  accepted after AUTH (Received: ... with ESMTPA)" grep -q "with ESMTPA " "$f"
else
  fail "netx_example's mail was delivered to bob (waited 30 s)"
fi
if [ -x "$WORK/netx_example_small" ]; then
  # Both example programs send the same mail: two of them must arrive.
  demo_count() { test "$(new_mail_with "NetX Duo SMTP Client Demo" | wc -l)" -ge 2; }
  deadline=$((SECONDS + 30))
  until demo_count || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.2; done
  check "netx_example's mail from the small profile was delivered too" demo_count
  for f in $(new_mail_with "NetX Duo SMTP Client Demo"); do
    check "  $(basename "$f"): the example's body and ESMTPA" \
      bash -c 'grep -qxF "to send email to SMTP servers." "$1" && grep -q "with ESMTPA " "$1"' _ "$f"
  done
fi

# capi_mails TAG: the mails capi_checks --server TAG sent.
capi_mails() {
  local tag=$1 f b t i
  if f=$(wait_mail "capi plain $tag" 30); then
    pass "[$tag] PLAIN mail was delivered"
    b=$(body_of "$f")
    check "  body line 1" grep -qxF "Body of the PLAIN mail $tag." <<<"$b"
    check "  a line starting with a dot arrives intact" grep -qxF ".leading dot line" <<<"$b"
    check "  last body line" grep -qxF "last line" <<<"$b"
    check "  Return-Path is alice" grep -qxF "Return-Path: <alice@example.test>" "$f"
    check "  accepted after AUTH (ESMTPA)" grep -q "with ESMTPA " "$f"
    check "  normal priority header" grep -qi "^X-Priority: 3" "$f"
  else
    fail "[$tag] PLAIN mail was delivered (waited 30 s)"
  fi

  if f=$(wait_mail "capi high $tag" 30); then
    pass "[$tag] HIGH priority mail (bare recipient) was delivered"
    check "  its body" grep -qxF "Body of the HIGH mail $tag." <<<"$(body_of "$f")"
    check "  X-Priority: 1" grep -qi "^X-Priority: 1" "$f"
  else
    fail "[$tag] HIGH priority mail was delivered (waited 30 s)"
  fi

  if f=$(wait_mail "capi from-copy $tag" 30); then
    pass "[$tag] LOGIN mail was delivered"
    check "  its body" grep -qxF "Body of the LOGIN mail $tag." <<<"$(body_of "$f")"
    check "  envelope sender is the address given at create (Return-Path alice)" \
      grep -qxF "Return-Path: <alice@example.test>" "$f"
    check "  From header is the address given at create" grep -qF "alice@example.test" <<<"$(header_of From "$f")"
    check "  the caller's later overwrite (mallory) is nowhere in the mail" bash -c '! grep -qi mallory "$1"' _ "$f"
    check "  low priority header" grep -qi "^X-Priority: 5" "$f"
  else
    fail "[$tag] LOGIN mail was delivered (waited 30 s)"
  fi

  if f=$(wait_mail "capi none $tag" 30); then
    pass "[$tag] unauthenticated mail was delivered"
    check "  its body" grep -qxF "Body of the unauthenticated mail $tag." <<<"$(body_of "$f")"
    check "  accepted without AUTH (with ESMTP, not ESMTPA)" grep -q "with ESMTP id" "$f"
  else
    fail "[$tag] unauthenticated mail was delivered (waited 30 s)"
  fi

  local got=0
  for t in 0 1 2 3; do
    for i in 0 1; do
      if f=$(wait_mail "capi thread $t.$i $tag" 30) &&
         grep -qxF "Sent by thread $t, mail $i, $tag." <<<"$(body_of "$f")"; then
        got=$((got + 1))
      else
        echo "    missing or wrong: capi thread $t.$i $tag"
      fi
    done
  done
  check "[$tag] all 8 concurrent mails delivered, each with its own body" test "$got" -eq 8

  # Sent before the 'none' mail, which has arrived: a refused mail would be there by now.
  check "[$tag] the wrong-password mail was not delivered" test -z "$(new_mail_with "capi badpass $tag")"
}
capi_mails "$TAG"
if [ -x "$WORK/capi_checks_zsock" ]; then
  capi_mails "${TAG}z"
fi

# ---- 5. TLS (nx_smtp_client_tls_set) ----------------------------------------------------------
echo "== TLS against Postfix 127.0.0.1:2587 (STARTTLS) and 2465 (implicit)"
if [ -z "${ZSMTP_CA:-}" ] || [ ! -f "$ZSMTP_CA" ]; then
  fail "ZSMTP_CA names the test servers' CA certificate (got '${ZSMTP_CA:-}')"
  finish
fi
if ! port_open 127.0.0.1 2587 || ! port_open 127.0.0.1 2465; then
  fail "Postfix listens on 127.0.0.1:2587 and 2465"
  finish
fi
CAROL=$ZSMTP_MAILDIR/example.test/carol
CAROL_BEFORE=$WORK/carol.before
find "$CAROL" -type f \( -path '*/new/*' -o -path '*/cur/*' \) 2>/dev/null | sort >"$CAROL_BEFORE"
# new_mail_in DIR BEFORE SUBJECT SECONDS: bounded wait for a new mail with that subject.
new_mail_in() {
  local deadline=$((SECONDS + $4)) f
  while :; do
    while IFS= read -r f; do
      if grep -qxF "Subject: $3" "$f" 2>/dev/null; then echo "$f"; return 0; fi
    done < <(find "$1" -type f \( -path '*/new/*' -o -path '*/cur/*' \) 2>/dev/null | sort | comm -13 "$2" -)
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}
# The first Received header, with its continuation lines.
first_received() { sed -n '/^Received: /,/^[^[:space:]]/p' "$1" | sed '$d' | head -n 8; }

echo "-- capi_checks --tls-server ${TAG}t (std library: rustls, CA through SSL_CERT_FILE)"
if [ -x "$WORK/shim_device" ]; then
  echo "== the shim's TLS client with every second send refused (ENOBUFS), Postfix 2465"
  run_counted "shim_device (TLS)" 60 "$WORK/shim_device" localhost 2465 "$ZSMTP_CA"
fi
SSL_CERT_FILE=$ZSMTP_CA run_counted "capi_checks --tls-server (std)" 300 "$WORK/capi_checks" --tls-server "${TAG}t"
echo "-- capi_checks --tls-server ${TAG}tc (std library: rustls, CA through ZSMTP_CA_FILE)"
ZSMTP_CA_FILE=$ZSMTP_CA run_counted "capi_checks --tls-server (std, ZSMTP_CA_FILE)" 300 "$WORK/capi_checks" --tls-server "${TAG}tc"
# A CA file that cannot be loaded: TLS fails closed (0xC4), with the system's CAs (which the
# std library would otherwise use) still named by SSL_CERT_FILE.
echo "-- capi_checks --tls-untrusted ${TAG}tu (std library, ZSMTP_CA_FILE unreadable)"
ZSMTP_CA_FILE=$WORK/no-such-ca.pem SSL_CERT_FILE=$ZSMTP_CA run_counted "capi_checks --tls-untrusted (std)" 300 \
  "$WORK/capi_checks" --tls-untrusted "${TAG}tu"
if [ -x "$WORK/capi_checks_zsock" ]; then
  echo "-- capi_checks --tls-server ${TAG}tz (zsock-shim library: mbedTLS, CA through ZSMTP_CA_FILE)"
  ZSMTP_CA_FILE=$ZSMTP_CA run_counted "capi_checks --tls-server (zsock)" 300 "$WORK/capi_checks_zsock" --tls-server "${TAG}tz"
  echo "-- capi_checks --tls-untrusted ${TAG}tuz (zsock-shim library, ZSMTP_CA_FILE unreadable)"
  ZSMTP_CA_FILE=$WORK/no-such-ca.pem SSL_CERT_FILE=$ZSMTP_CA run_counted "capi_checks --tls-untrusted (zsock)" 300 \
    "$WORK/capi_checks_zsock" --tls-untrusted "${TAG}tuz"
fi

tls_mails() {
  local tag=$1 f
  if f=$(new_mail_in "$BOB" "$BEFORE" "capi starttls $tag" 30); then
    pass "[$tag] STARTTLS mail was delivered"
    check "  its body" grep -qxF "Body of the STARTTLS mail $tag." <<<"$(body_of "$f")"
    check "  the dotted line arrives intact" grep -qxF ".leading dot line" <<<"$(body_of "$f")"
    check "  accepted over TLS after AUTH (Received: ... with ESMTPSA)" grep -q "with ESMTPSA " <<<"$(first_received "$f")"
  else
    fail "[$tag] STARTTLS mail was delivered (waited 30 s)"
  fi
  if f=$(new_mail_in "$CAROL" "$CAROL_BEFORE" "capi implicit $tag" 30); then
    pass "[$tag] implicit-TLS mail was delivered"
    check "  its body" grep -qxF "Body of the implicit-TLS mail $tag." <<<"$(body_of "$f")"
    check "  accepted over TLS after AUTH (Received: ... with ESMTPSA)" grep -q "with ESMTPSA " <<<"$(first_received "$f")"
  else
    fail "[$tag] implicit-TLS mail was delivered (waited 30 s)"
  fi
  # Both failed sends came before the implicit mail, which has arrived.
  check "[$tag] the wrong-name mail was not delivered" test -z "$(new_mail_with "capi wrongname $tag")"
  check "[$tag] the cleartext mail was not delivered" test -z "$(new_mail_with "capi cleartext $tag")"
}
tls_mails "${TAG}t"
tls_mails "${TAG}tc"
check "[${TAG}tu] the mail with no loadable CA was not delivered" test -z "$(new_mail_with "capi untrusted ${TAG}tu")"
if [ -x "$WORK/capi_checks_zsock" ]; then
  tls_mails "${TAG}tz"
  check "[${TAG}tuz] the mail with no loadable CA was not delivered" test -z "$(new_mail_with "capi untrusted ${TAG}tuz")"
fi

finish
