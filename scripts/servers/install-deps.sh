#!/usr/bin/env bash
# Installs what the tests need; idempotent and quick when everything is there.
#  - Debian packages: postfix (+ smtp-sink), sasl2-bin (saslpasswd2), swaks, libnet-ssleay-perl
#    (TLS for swaks), libsasl2-modules (PLAIN/LOGIN), libsasl2-modules-db (sasldb), openssl,
#    cmake (scripts/mbedtls-host builds the mbedTLS 3.6 that the TLS of the Zephyr shim's POSIX
#    twin links with `--features zsock`; Debian 12's libmbedtls-dev, 2.28, is too old for it),
#    time (GNU time: the peak memory of tests/integration/test_peak_memory.py and the bench).
#    `apt-get update` runs once, and only when something is missing. debconf is preseeded so
#    that Postfix does not configure (or start) a system mailer.
#  - A Python venv at $ZSMTP_VENV (default ~/.cache/zsmtp-venv) with aiosmtpd and pytest.
#  - rustup targets for the no_std cross builds, and Rust 1.86 (zsmtp's rust-version, the Rust of
#    Zephyr's CI images) with x86_64-unknown-none for the MSRV checks.
# Needs root for apt-get (CI and the dev machines run as root).
set -euo pipefail
. "$(dirname "$0")/common.sh"

APT_PKGS=(postfix sasl2-bin swaks libnet-ssleay-perl libsasl2-modules libsasl2-modules-db openssl
          cmake time)
# zsmtp's rust-version (Cargo.toml).
MSRV_TOOLCHAIN=1.86.0
RUST_TARGETS=(thumbv7em-none-eabihf thumbv7m-none-eabi thumbv6m-none-eabi thumbv8m.main-none-eabihf
              riscv32imac-unknown-none-elf x86_64-unknown-none)

# --- Debian packages ---
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  echo "postfix postfix/mailname string localhost" | debconf-set-selections
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: Debian packages present"
fi

# --- Python venv ---
req="$SERVERS_DIR/requirements.txt"
stamp="$ZSMTP_VENV/.zsmtp-requirements"
if [ ! -x "$ZSMTP_VENV/bin/python" ]; then
  echo "install-deps: creating venv $ZSMTP_VENV"
  mkdir -p "$(dirname "$ZSMTP_VENV")"
  python3 -m venv "$ZSMTP_VENV"
fi
if ! cmp -s "$req" "$stamp" || ! "$ZSMTP_VENV/bin/python" -c 'import aiosmtpd, pytest' 2>/dev/null; then
  echo "install-deps: pip install -r $req"
  "$ZSMTP_VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  cp "$req" "$stamp"
else
  echo "install-deps: venv $ZSMTP_VENV up to date"
fi

# --- rustup targets ---
if command -v rustup >/dev/null; then
  installed=$(rustup target list --installed)
  want=()
  for t in "${RUST_TARGETS[@]}"; do grep -qx "$t" <<<"$installed" || want+=("$t"); done
  if [ ${#want[@]} -gt 0 ]; then
    echo "install-deps: rustup target add ${want[*]}"
    rustup target add "${want[@]}"
  else
    echo "install-deps: rust targets present"
  fi
  if ! rustup toolchain list | grep -q "^$MSRV_TOOLCHAIN-"; then
    echo "install-deps: rustup toolchain install $MSRV_TOOLCHAIN"
    rustup toolchain install "$MSRV_TOOLCHAIN" --profile minimal --component clippy
  else
    echo "install-deps: Rust $MSRV_TOOLCHAIN present"
  fi
  # native_sim/native/64's Rust target, for the Zephyr applications' MSRV build (check-zephyr).
  if ! rustup +"$MSRV_TOOLCHAIN" target list --installed | grep -qx x86_64-unknown-none; then
    echo "install-deps: rustup target add --toolchain $MSRV_TOOLCHAIN x86_64-unknown-none"
    rustup target add --toolchain "$MSRV_TOOLCHAIN" x86_64-unknown-none
  fi
else
  echo "install-deps: rustup not found; cannot check the cross targets" >&2
  exit 1
fi
