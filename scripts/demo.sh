#!/usr/bin/env bash
# The main job: install what is missing, build (release preset), and run `fedswarm demo`.
# Extra arguments go to `fedswarm demo` (e.g. --keep).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target fedswarm
exec build/release/tools/fedswarm demo "$@"
