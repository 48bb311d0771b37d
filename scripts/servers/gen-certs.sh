#!/usr/bin/env bash
# usage: gen-certs.sh DIR -> DIR/ca.pem (trust anchor), DIR/cert.pem + DIR/key.pem (leaf for
# localhost, 127.0.0.1 and ::1). The leaf is signed by a separate CA and carries CA:FALSE +
# serverAuth, so strict verifiers (webpki) accept it; a self-signed `openssl req -x509` leaf is
# a CA certificate and is rejected there. Does nothing when all three files exist.
set -euo pipefail
D=$1
[ -s "$D/ca.pem" ] && [ -s "$D/cert.pem" ] && [ -s "$D/key.pem" ] && exit 0
mkdir -p "$D"; cd "$D"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout ca.key -out ca.pem -days 3650 -subj "/CN=zsmtp test CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout key.pem -out leaf.csr -subj "/CN=localhost" 2>/dev/null
printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1' \
  'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
  'extendedKeyUsage=serverAuth' > leaf.ext
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
  -out cert.pem -days 3650 -extfile leaf.ext 2>/dev/null
chmod 600 key.pem ca.key
chmod 644 ca.pem cert.pem
rm -f leaf.csr leaf.ext ca.srl
