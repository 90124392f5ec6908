#!/usr/bin/env bash
# Installs the Debian packages fedswarm needs, only those missing. Run as root (or with
# sudo available). Used by scripts/demo.sh and scripts/test.sh; `--package` adds what
# scripts/package.sh needs, `--package-test` also systemd-analyze for the package test.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libtorrent-rasterbar-dev libboost-dev libsodium-dev liblmdb-dev capnproto libcapnp-dev
  libxxhash-dev doctest-dev libcli11-dev libtomlplusplus-dev libspdlog-dev libnetcdf-dev
  nlohmann-json3-dev libsqlite3-dev libssl-dev
  curl python3-requests python3-requests-cache python3-webob
  prometheus
  chromium
  e2fsprogs nftables iproute2 util-linux
  python3-libtorrent
  clang libclang-rt-14-dev
)
case "${1:-}" in
  --package) packages+=(help2man dpkg-dev lintian) ;;
  --package-test) packages+=(help2man dpkg-dev lintian systemd) ;;
  "") ;;
  *) echo "usage: scripts/deps.sh [--package|--package-test]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "fedswarm: installing missing Debian packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "fedswarm: run as root or install sudo to get: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
