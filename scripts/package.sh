#!/usr/bin/env bash
# Builds the Debian package build/package/fedswarm_<version>_<arch>.deb from the release
# preset (reusing its build: only the fedswarm binary and the man page are built if
# missing), then checks it with lintian (no errors allowed) and prints its path last.
#   scripts/package.sh [--no-lintian]
# Layout and maintainer scripts: packaging/ (README.md there). Dependencies come from
# dpkg-shlibdeps (${shlibs:Depends} in packaging/control), plus adduser for postinst.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
lintian=1
for a in "$@"; do
  case "$a" in
    --no-lintian) lintian=0 ;;
    *) echo "usage: scripts/package.sh [--no-lintian]" >&2; exit 2 ;;
  esac
done

scripts/deps.sh --package

build=build/release
# (Re)configure: cheap, keeps an existing build's settings, finds tools just installed.
cmake --preset release >/dev/null
cmake --build "$build" --target fedswarm fedswarm_package_files

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
changelog_version=$(dpkg-parsechangelog -l packaging/changelog -S Version)
if [ "$version" != "$changelog_version" ]; then
  echo "fedswarm: project VERSION is $version but packaging/changelog's last entry is $changelog_version;" \
       "add a changelog entry for $version (dch -v $version -c packaging/changelog)" >&2
  exit 1
fi
arch=$(dpkg --print-architecture)
out=build/package
deb="$out/fedswarm_${version}_${arch}.deb"
work="$out/work"              # a debian/ folder for dpkg-shlibdeps and dpkg-gencontrol
stage="$work/debian/fedswarm"  # the package's files, as debhelper would lay them out
rm -rf "$work" "$deb"
mkdir -p "$stage/DEBIAN"

# Files: the CMake install rules (packaging/CMakeLists.txt), binary stripped.
DESTDIR="$root/$stage" cmake --install "$build" --prefix /usr --strip >/dev/null
for f in usr/bin/fedswarm usr/share/man/man1/fedswarm.1.gz usr/share/doc/fedswarm/copyright \
         usr/share/doc/fedswarm/changelog.gz lib/systemd/system/fedswarm@.service; do
  [ -f "$stage/$f" ] || { echo "fedswarm: $f missing from the package staging area" >&2; exit 1; }
done

# Control: dpkg-shlibdeps finds the libraries' packages, dpkg-gencontrol fills in
# ${shlibs:Depends}, the version, the architecture and Installed-Size.
cp packaging/control packaging/changelog "$work/debian/"
(cd "$work" && dpkg-shlibdeps -Tdebian/substvars debian/fedswarm/usr/bin/fedswarm &&
   dpkg-gencontrol -pfedswarm -Pdebian/fedswarm -Tdebian/substvars)
for s in postinst prerm postrm; do install -m 0755 "packaging/$s" "$stage/DEBIAN/$s"; done
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
   xargs -0 md5sum > DEBIAN/md5sums)
chmod 0644 "$stage/DEBIAN/md5sums" "$stage/DEBIAN/control"
find "$stage" -type d -exec chmod 0755 {} +
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
rm -rf "$work"

if [ "$lintian" = 1 ]; then
  echo "== lintian $deb" >&2
  lintian --fail-on error --info "$deb" >&2
fi
echo "$deb"
