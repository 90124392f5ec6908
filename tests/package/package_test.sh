#!/usr/bin/env bash
# Package test (root only): builds the Debian package (scripts/package.sh, lintian
# included), installs it with dpkg -i, checks the service unit with systemd-analyze
# verify, runs `fedswarm --version` and `fedswarm init` as the fedswarm user in
# /var/lib/fedswarm/test-<random>, checks owners and modes, starts the node the way the
# unit does and stops it with SIGTERM, then purges the package and removes what the test
# added (test home, the fedswarm user and /var/lib/fedswarm if they did not exist,
# packages apt-get pulled in), leaving the machine as it was.
# Skips (exit 0, with the reason) when not root, without dpkg, or when a fedswarm
# package is already installed (a real node's package is never replaced by a test).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

skip() { echo "package test: SKIPPED: $*"; exit 0; }
fail() { echo "package test: FAILED: $*" >&2; exit 1; }
step() { echo "-- $*"; }

[ "$(id -u)" -eq 0 ] || skip "needs root (dpkg -i, a system user); run scripts/test.sh as root"
command -v dpkg >/dev/null && command -v dpkg-deb >/dev/null || skip "no dpkg on this machine"
if dpkg-query -W -f='${Status}' fedswarm 2>/dev/null | grep -q "ok installed"; then
  skip "a fedswarm package is already installed here ($(dpkg-query -W -f='${Version}' fedswarm)); not replacing it"
fi

scripts/deps.sh --package-test

step "build the package (scripts/package.sh, lintian)"
deb=$(scripts/package.sh | tail -n 1)
[ -f "$deb" ] || fail "scripts/package.sh did not produce a package"
version=$(dpkg-deb -f "$deb" Version)
echo "$deb: $(dpkg-deb -f "$deb" Depends)"

# What exists before, so the cleanup removes only what the test added.
user_existed=0; getent passwd fedswarm >/dev/null && user_existed=1
group_existed=0; getent group fedswarm >/dev/null && group_existed=1
varlib_existed=0; [ -e /var/lib/fedswarm ] && varlib_existed=1
installed_before=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 ~ /^ii/ {print $2}' | sort)
home=""
node_pid=""

cleanup() {
  local rc=$?
  set +e
  [ -n "$node_pid" ] && kill -KILL "$node_pid" 2>/dev/null
  if dpkg-query -W -f='${Status}' fedswarm 2>/dev/null | grep -qv "not-installed"; then
    dpkg --purge fedswarm >/dev/null
  fi
  local added
  added=$(comm -13 <(echo "$installed_before") \
            <(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 ~ /^ii/ {print $2}' | sort))
  [ -n "$added" ] && apt-get purge -y -qq $added >/dev/null
  [ -n "$home" ] && rm -rf "$home"
  [ "$user_existed" = 0 ] && getent passwd fedswarm >/dev/null && deluser --system --quiet fedswarm >/dev/null 2>&1
  [ "$group_existed" = 0 ] && getent group fedswarm >/dev/null && delgroup --system --quiet fedswarm >/dev/null 2>&1
  [ "$varlib_existed" = 0 ] && rm -rf /var/lib/fedswarm
  local left=""
  dpkg-query -W -f='${Status}' fedswarm 2>/dev/null | grep -q "ok installed" && left+=" package"
  [ "$user_existed" = 0 ] && getent passwd fedswarm >/dev/null && left+=" user"
  [ "$varlib_existed" = 0 ] && [ -e /var/lib/fedswarm ] && left+=" /var/lib/fedswarm"
  if [ -n "$left" ]; then
    echo "package test: cleanup left:$left" >&2
    rc=1
  else
    local what="package purged, test home removed"
    [ -n "$added" ] && what+=", packages apt-get added purged"
    [ "$user_existed" = 0 ] && what+=", user fedswarm removed"
    echo "-- cleanup: $what"
  fi
  exit $rc
}
trap cleanup EXIT

step "dpkg -i $deb"
if ! dpkg -i "$deb" >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq >/dev/null
fi
dpkg-query -W -f='${Status}' fedswarm | grep -q "install ok installed" || fail "fedswarm is not installed after dpkg -i"

expect_stat() {  # path "owner group mode"
  local got
  got=$(stat -c '%U %G %a' "$1") || fail "$1 missing"
  [ "$got" = "$2" ] || fail "$1 is '$got', expected '$2'"
  echo "ok  $1  $got"
}
expect_stat /usr/bin/fedswarm "root root 755"
expect_stat /lib/systemd/system/fedswarm@.service "root root 644"
expect_stat /usr/share/man/man1/fedswarm.1.gz "root root 644"
expect_stat /usr/share/doc/fedswarm/copyright "root root 644"
expect_stat /var/lib/fedswarm "fedswarm fedswarm 750"
uid=$(id -u fedswarm)
[ "$uid" -lt 1000 ] || fail "fedswarm is not a system user (uid $uid)"
shell=$(getent passwd fedswarm | cut -d: -f7)
[ "$shell" = /usr/sbin/nologin ] || fail "the fedswarm user's shell is $shell"
echo "ok  user fedswarm: uid $uid, shell $shell"

step "systemd-analyze verify fedswarm@.service"
if command -v systemd-analyze >/dev/null; then
  # A template is verified through an instance; the unit's binary must exist (it does now).
  unit_dir=$(mktemp -d)
  cp /lib/systemd/system/fedswarm@.service "$unit_dir/"
  # It also runs `man fedswarm(1)` for Documentation=, when man is there to run.
  man_opt=(); command -v man >/dev/null || man_opt=(--man=no)
  out=$(cd "$unit_dir" && systemd-analyze verify "${man_opt[@]}" "$unit_dir/fedswarm@package-test.service" 2>&1) ||
    { rm -rf "$unit_dir"; fail "systemd-analyze verify: $out"; }
  rm -rf "$unit_dir"
  echo "ok  systemd-analyze verify: ${out:-no complaints}"
else
  echo "NOTE: systemd-analyze is not available on this machine (install the systemd package); the unit was not verified"
fi

step "fedswarm --version"
runuser -u fedswarm -- fedswarm --version
first=$(runuser -u fedswarm -- fedswarm --version | head -n 1)
[ "$first" = "fedswarm $version" ] || fail "--version says '$first', the package is $version"

home=/var/lib/fedswarm/test-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
step "fedswarm --home $home init (as fedswarm)"
# A loopback address of its own, so the node's fixed ports meet no other test's.
addr=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 2))
runuser -u fedswarm -- fedswarm --home "$home" init --site PKGTEST --tier 2 \
  --listen "$addr:7400" --swarm-port 7401 >/dev/null
expect_stat "$home" "fedswarm fedswarm 755"
expect_stat "$home/node.key" "fedswarm fedswarm 600"
expect_stat "$home/config.toml" "fedswarm fedswarm 644"
expect_stat "$home/catalog" "fedswarm fedswarm 755"
expect_stat "$home/logs" "fedswarm fedswarm 755"
runuser -u fedswarm -- fedswarm --home "$home" --json status >/dev/null || fail "status on the new home failed"
echo "ok  status"

step "the unit's ExecStart as fedswarm, then SIGTERM"
instance=${home##*/}
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/fedswarm@.service)
exec_start=${exec_start//%i/$instance}
# setpriv execs the node itself (runuser would stay in between and take the signal).
setpriv --reuid=fedswarm --regid=fedswarm --init-groups -- $exec_start >"$home.out" 2>&1 &
node_pid=$!
for _ in $(seq 100); do [ -S "$home/control.sock" ] && break; sleep 0.1; done
[ -S "$home/control.sock" ] || { cat "$home.out" >&2; rm -f "$home.out"; fail "the node did not open its control socket"; }
kill -TERM "$node_pid"
rc=0; wait "$node_pid" || rc=$?
node_pid=""
grep -q "stopped" "$home/logs/node.log" || { cat "$home.out" >&2; rm -f "$home.out"; fail "no clean stop in node.log"; }
rm -f "$home.out"
[ "$rc" = 0 ] || fail "node run exited $rc on SIGTERM"
echo "ok  node run started and stopped cleanly on SIGTERM (exit 0)"

step "dpkg --purge fedswarm"
dpkg --purge fedswarm >/dev/null
[ ! -e /usr/bin/fedswarm ] || fail "/usr/bin/fedswarm is still there after purge"
[ ! -e /lib/systemd/system/fedswarm@.service ] || fail "the unit is still there after purge"
[ -f "$home/node.key" ] || fail "purge removed a node home (it must never remove data)"
echo "ok  purged; the node home and its key are kept"

echo "package test: PASSED ($deb)"
