#!/usr/bin/env bash
# Longer fuzzing: runs every libFuzzer target (tests/fuzz/fuzz_*.cpp) for M minutes,
# starting from its corpus in tests/fuzz/corpus/<target>/, then merges what it found
# back into that corpus and keeps it minimal (libFuzzer -set_cover_merge=1 on coverage
# edges; the seed-* and regress-* files always stay). Prints a table (target, runs,
# execs/s, new corpus entries, corpus size, crashes). Any crash, leak,
# timeout or out-of-memory input is kept as build/fuzz/crashes/<target>-<kind>-<sha1>;
# the script then exits 1 and prints the command that reproduces it.
#
# Usage: scripts/fuzz.sh --minutes M [--target NAME] [--jobs J]
#   --target  one target (fuzz_envelope, …); default: all of them
#   --jobs    targets fuzzed at once, one process each (default 1)
# Builds the `fuzz` preset (clang) first if needed. After a run, review and commit the
# grown corpus (git status tests/fuzz/corpus).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

minutes="" target="" jobs=1
while (($#)); do
  case "$1" in
    --minutes) minutes="${2:-}"; shift 2 ;;
    --target) target="${2:-}"; shift 2 ;;
    --jobs) jobs="${2:-}"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$minutes" =~ ^[0-9]+$ && "$minutes" -gt 0 ]] || { echo "fuzz.sh: --minutes M (a whole number > 0) is required" >&2; exit 2; }
[[ "$jobs" =~ ^[0-9]+$ && "$jobs" -gt 0 ]] || { echo "fuzz.sh: --jobs J must be a whole number > 0" >&2; exit 2; }
command -v clang++ >/dev/null || { echo "fuzz.sh: the fuzz preset needs clang++" >&2; exit 2; }

build=$root/build/fuzz
bindir=$build/tests/fuzz
corpus_root=$root/tests/fuzz/corpus
crashes=$build/crashes
runs=$build/fuzz-runs

targets=()
for src in tests/fuzz/fuzz_*.cpp; do
  name=$(basename "$src" .cpp)
  [[ -z "$target" || "$target" == "$name" ]] && targets+=("$name")
done
((${#targets[@]})) || { echo "fuzz.sh: no fuzz target named $target" >&2; exit 2; }

# Build (configure once; ninja does nothing when the targets are up to date).
mkdir -p "$build"
log=$build/fuzz_build.log
if [[ ! -f "$build/build.ninja" ]]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake --preset fuzz -B "$build" -DFEDSWARM_WERROR=ON "${launcher[@]}" >"$log" 2>&1 || { cat "$log"; exit 1; }
fi
echo "== building ${targets[*]} (log: $log)"
cmake --build "$build" --target "${targets[@]}" >>"$log" 2>&1 || { tail -n 50 "$log"; exit 1; }

# One target: fuzz into a scratch dir (the corpus is read only meanwhile), merge the
# new inputs into the corpus, keep the artifacts, write one result line.
fuzz_one() {
  local name=$1 bin=$bindir/$1 work=$runs/$1 corpus=$corpus_root/$1
  rm -rf "$work"
  mkdir -p "$work/new" "$work/artifacts" "$corpus" "$crashes"
  local after rc=0
  "$bin" -max_total_time=$((minutes * 60)) -max_len=65536 -rss_limit_mb=2048 -timeout=30 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/new" "$corpus" >"$work/fuzz.log" 2>&1 || rc=$?
  local execs speed found=0 kept=()
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -n 1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -n 1)
  for a in "$work"/artifacts/*; do
    [[ -f "$a" ]] || continue
    local kind=${a##*/}
    case "$kind" in crash-*|leak-*|timeout-*|oom-*) ;; *) continue ;; esac
    cp "$a" "$crashes/$name-$kind"
    kept+=("$crashes/$name-$kind")
    found=$((found + 1))
  done
  # Minimal corpus: a set cover (by coverage edges) of the old corpus and the new
  # inputs; seed-* and regress-* files always stay, other files not in the cover go —
  # unless the run failed: then the cover may be incomplete, and nothing is removed.
  mkdir -p "$work/min" "$work/merge-artifacts"
  local added=0
  if "$bin" -set_cover_merge=1 -use_counters=0 -max_len=65536 -rss_limit_mb=2048 -timeout=30 \
      -artifact_prefix="$work/merge-artifacts/" "$work/min" "$corpus" "$work/new" >"$work/merge.log" 2>&1; then
    declare -A have=() keep=()
    local f sum
    for f in "$corpus"/*; do
      [[ -f "$f" ]] || continue
      sum=$(sha1sum "$f" | cut -c1-40)
      have[$sum]=$f
    done
    for f in "$work"/min/*; do  # libFuzzer names them by their SHA-1
      [[ -f "$f" ]] || continue
      keep[${f##*/}]=1
      [[ -n "${have[${f##*/}]:-}" ]] || { cp "$f" "$corpus/"; added=$((added + 1)); }
    done
    if ((rc == 0 && found == 0)); then
      for sum in "${!have[@]}"; do
        case "${have[$sum]##*/}" in seed-*|regress-*|README*) continue ;; esac
        [[ -n "${keep[$sum]:-}" ]] || rm -f "${have[$sum]}"
      done
    fi
  else
    echo "fuzz.sh: $name: merge failed, corpus left as it was; see $work/merge.log" >&2
  fi
  after=$(find "$corpus" -type f | wc -l)
  local status=ok
  if ((found)); then status=crash; elif ((rc)); then status="error(rc=$rc)"; fi
  printf '%s %s %s %s %s %s %s\n' "$name" "${execs:-?}" "${speed:-?}" "$added" "$after" "$found" "$status" >"$work/result"
  for k in "${kept[@]}"; do printf '%s\n' "$k" >>"$work/crashes"; done
}

echo "== fuzzing ${#targets[@]} target(s) for $minutes min each, $jobs at a time; logs in $runs/<target>/"
running=0
for name in "${targets[@]}"; do
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
  echo "   $(date -u +%H:%M:%S) $name"
  fuzz_one "$name" &
  running=$((running + 1))
done
wait

failed=0
printf '\n%-24s %10s %8s %12s %7s %8s  %s\n' target runs execs/s new_entries corpus crashes status
for name in "${targets[@]}"; do
  if [[ -f "$runs/$name/result" ]]; then
    read -r n execs speed new size found status <"$runs/$name/result"
  else
    n=$name execs=? speed=? new=? size=? found=? status=no-result
  fi
  printf '%-24s %10s %8s %12s %7s %8s  %s\n' "$n" "$execs" "$speed" "$new" "$size" "$found" "$status"
  [[ "$status" == ok ]] || failed=1
done
for name in "${targets[@]}"; do
  [[ -f "$runs/$name/crashes" ]] || continue
  while read -r c; do
    echo "reproduce: $bindir/$name $c"
  done <"$runs/$name/crashes"
done
total=$(du -sk --apparent-size "$corpus_root" | cut -f1)
echo "corpus: $(find "$corpus_root" -type f | wc -l) files, ${total} KiB in tests/fuzz/corpus"
exit "$failed"
