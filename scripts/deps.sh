#!/usr/bin/env bash
# Installs everything Portcullis needs to build, run and test on Debian 12.
# Idempotent: apt skips what is already installed; npm installs only when missing.
set -euo pipefail

what="${1:-build}"   # build | test

build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsodium-dev libsqlite3-dev libpq-dev libyaml-cpp-dev libcli11-dev libkrb5-dev
  libldap-dev libqrencode-dev
)
test_pkgs=(
  libgtest-dev libgmock-dev libbenchmark-dev clang-format
  postgresql postgresql-client sqlite3 curl jq openssl nginx-light wrk slapd ldap-utils
  python3 python3-pytest python3-requests python3-authlib python3-requests-oauthlib
  python3-jwcrypto python3-jwt python3-prometheus-client python3-pyotp
  libfaketime
  krb5-kdc krb5-admin-server krb5-user
  chromium zbar-tools
)

pkgs=("${build_pkgs[@]}")
if [[ "$what" == "test" ]]; then pkgs+=("${test_pkgs[@]}"); fi

sudo_cmd=""
[[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq || true
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# nginx-light's package starts a system nginx on port 80; tests start their own on loopback.
if [[ "$what" == "test" ]] && command -v systemctl >/dev/null && systemctl is-active -q nginx 2>/dev/null; then
  systemctl stop nginx || true
fi

# Node.js comes from the machine (Debian's npm conflicts with the NodeSource build found here);
# install Debian's only when there is none.
if [[ "$what" == "test" ]] && ! command -v node >/dev/null; then
  $sudo_cmd apt-get install -y -qq --no-install-recommends nodejs npm
fi
