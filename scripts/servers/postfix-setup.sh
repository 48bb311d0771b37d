#!/usr/bin/env bash
# Creates a fresh, self-contained Postfix instance under $SMTP_TEST_DIR/pf (nothing in /etc is
# touched; a previous instance there is stopped and removed first). Loopback only; outbound
# mail is impossible by configuration.
#   SASL (Cyrus sasldb, no saslauthd): alice / secret123, realm example.test; PLAIN and LOGIN.
#   Maildir delivery under pf/mail/: example.test has alice bob carol dave + a catch-all
#   (catchall/); strict.test knows only alice and bob (anyone else: 550 5.1.1 at RCPT).
#   127.0.0.1:2525 plain, STARTTLS offered, AUTH allowed in clear
#   127.0.0.1:2587 STARTTLS required, AUTH only after TLS and required
#   127.0.0.1:2465 implicit TLS (wrapper mode), AUTH required
#   127.0.0.1:2526 as 2525 but without 8BITMIME in its EHLO (a 7-bit server, for MIME tests)
# Messages up to 100 MiB (a 50 MiB attachment is about 68 MiB in base64).
# Postfix logs to pf/maillog (smtpd writes sasl_method=PLAIN|LOGIN per queued mail there).
set -euo pipefail
. "$(dirname "$0")/common.sh"
DOMAIN=example.test
STRICT_DOMAIN=strict.test
VUID=5000

"$SERVERS_DIR/postfix-stop.sh" >/dev/null
rm -rf "$PF"
mkdir -p "$SMTP_TEST_DIR" "$PF"/{etc/sasl,spool,data,mail}
chmod 755 "$SMTP_TEST_DIR" "$PF" "$PF/etc" "$PF/etc/sasl"

"$SERVERS_DIR/gen-certs.sh" "$CERT_DIR"
cd "$PF/etc"

cat > sasl/smtpd.conf <<EOT
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $PF/etc/sasldb2
EOT
printf '%s' "$SASL_PASS" | saslpasswd2 -p -c -f "$PF/etc/sasldb2" -u "$SASL_REALM" "$SASL_USER"
chown root:postfix "$PF/etc/sasldb2"; chmod 640 "$PF/etc/sasldb2"

{
  for u in alice bob carol dave; do echo "$u@$DOMAIN $DOMAIN/$u/"; done
  echo "@$DOMAIN $DOMAIN/catchall/"
  for u in alice bob; do echo "$u@$STRICT_DOMAIN $STRICT_DOMAIN/$u/"; done
} > vmailbox

cat > main.cf <<EOT
compatibility_level = 3.6
myhostname = mx.$DOMAIN
mydomain = $DOMAIN
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
queue_directory = $PF/spool
data_directory = $PF/data
maillog_file = $PF/maillog
maillog_file_prefixes = $PF, /var, /dev/stdout
mail_owner = postfix
setgid_group = postdrop
alias_maps =
alias_database =
biff = no
smtputf8_enable = yes
message_size_limit = 104857600
# do not rewrite or add headers for SMTP clients (keeps the message verbatim)
local_header_rewrite_clients =
always_add_missing_headers = no
virtual_mailbox_domains = $DOMAIN, $STRICT_DOMAIN
virtual_mailbox_base = $PF/mail
virtual_mailbox_maps = texthash:$PF/etc/vmailbox
virtual_uid_maps = static:$VUID
virtual_gid_maps = static:$VUID
virtual_minimum_uid = 100
virtual_mailbox_limit = 0
# no outbound relaying anywhere
default_transport = error:outbound mail disabled in test instance
relay_transport = error:outbound mail disabled in test instance
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $PF/etc/sasl
smtpd_sasl_local_domain = $SASL_REALM
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
broken_sasl_auth_clients = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_tls_cert_file = $CERT_DIR/cert.pem
smtpd_tls_key_file = $CERT_DIR/key.pem
smtpd_tls_security_level = may
smtpd_tls_auth_only = no
smtpd_tls_loglevel = 1
smtpd_tls_session_cache_database =
# fast and deterministic for tests
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_rate_limit = 0
smtpd_client_connection_count_limit = 0
anvil_rate_time_unit = 60s
default_process_limit = 200
queue_run_delay = 10s
EOT

cat > master.cf <<'EOT'
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:2525 inet n   -       n       -       -       smtpd
127.0.0.1:2587 inet n   -       n       -       -       smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
127.0.0.1:2465 inet n   -       n       -       -       smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
127.0.0.1:2526 inet n   -       n       -       -       smtpd
  -o smtpd_discard_ehlo_keywords=silent-discard,8bitmime
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOT

chown -R $VUID:$VUID "$PF/mail"; chmod 700 "$PF/mail"
# creates the queue directories with the right owners and modes (prints nothing useful)
postfix -c "$PF/etc" set-permissions >/dev/null 2>&1 || true
# `postfix` prints nothing when stderr is not a tty: run it under script(1) to see why it fails
if ! postfix -c "$PF/etc" check 2>/dev/null; then
  script -qec "postfix -c $PF/etc check" /dev/null >&2 || true
  echo "postfix-setup: postfix check failed" >&2
  exit 1
fi
echo "postfix-setup: instance ready in $PF"
