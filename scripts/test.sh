#!/usr/bin/env bash
# The whole test suite: install what is missing, then build and run every test in the
# debug preset (unit + functional + layering), the unit tests again under ASan+UBSan
# (sanitize preset, which builds the unit-test executables only), the fuzz targets briefly
# (25 000 inputs each; scripts/fuzz.sh runs them for longer) when clang is available, and (as root) the
# Debian package test. Every build treats a compiler warning as an error (FEDSWARM_WERROR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc)

echo "== debug: unit and functional tests"
cmake --preset debug -DFEDSWARM_WERROR=ON >/dev/null
cmake --build --preset debug -j "$jobs"
ctest --preset debug -j "$jobs"

echo "== sanitize: unit tests under ASan+UBSan"
cmake --preset sanitize -DFEDSWARM_WERROR=ON >/dev/null
cmake --build --preset sanitize -j "$jobs"
ctest --preset sanitize -j "$jobs"

if command -v clang++ >/dev/null; then
  echo "== fuzz: every parser of untrusted bytes, briefly"
  cmake --preset fuzz -DFEDSWARM_WERROR=ON >/dev/null
  cmake --build --preset fuzz -j "$jobs" --target fuzz_all
  ctest --test-dir build/fuzz -L fuzz -j "$jobs" --output-on-failure
fi

echo "== package: build the .deb (release preset), install, init as the fedswarm user, purge"
cmake --preset release -DFEDSWARM_WERROR=ON >/dev/null
tests/package/package_test.sh
echo "== all tests passed"
