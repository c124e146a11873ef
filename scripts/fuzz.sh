#!/usr/bin/env bash
# Fuzzes the core's parsers with cargo-fuzz (libFuzzer + AddressSanitizer): builds every target in fuzz/, then
# runs each in turn for SECONDS (default 600) and prints one summary line per target (runs, exec/s, corpus,
# crashes). Too slow for CI; run it by hand after changing a parser.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Works on a stable toolchain: RUSTC_BOOTSTRAP=1 lets it take the -Z flags cargo-fuzz passes. FUZZ_SANITIZER
# picks another sanitizer (`none` where ASan does not build). A working corpus grows in fuzz/corpus/<target>
# (seeded from fuzz/seeds and the real-world fixtures in ../shared/fixtures when present); what fails is
# written to fuzz/artifacts/<target>. Neither is committed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
export RUSTC_BOOTSTRAP=1
# The bundled SQLite amalgamation has two function-local statics named `aiOff`, which ASan's one-definition
# check mistakes for one global defined twice at start-up.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}"

duration="${1:-600}"
shift || true
sanitizer="${FUZZ_SANITIZER:-address}"
target_dir="${CARGO_TARGET_DIR:-$ROOT/fuzz/target}/fuzz"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
mapfile -t all < <(cargo fuzz list --fuzz-dir fuzz)
targets=("${@:-${all[@]}}")

if [ $# -eq 0 ]; then
  cargo fuzz build --fuzz-dir fuzz --target-dir "$target_dir" -s "$sanitizer"
else
  for t in "${targets[@]}"; do cargo fuzz build --fuzz-dir fuzz --target-dir "$target_dir" -s "$sanitizer" "$t"; done
fi
triple="$(rustc -vV | sed -n 's/^host: //p')"

# Seeds per target: the committed ones, then the shared real-world files of the same shape.
seed() {
  local t="$1" corpus="fuzz/corpus/$1" shared="$ROOT/../shared/fixtures"
  mkdir -p "$corpus"
  [ -d "fuzz/seeds/$t" ] && cp -n "fuzz/seeds/$t"/* "$corpus"/ 2>/dev/null || true
  case "$t" in
    ical) [ -d "$shared/ics" ] && cp -n "$shared"/ics/*.ics "$corpus"/ ;;
    google_page) cp -n tests/fixtures/google/*.json "$corpus"/
      [ -d "$shared/providers/google" ] && cp -n "$shared"/providers/google/*.json "$corpus"/ ;;
    graph_page) [ -d "$shared/providers/graph" ] && cp -n "$shared"/providers/graph/*.json "$corpus"/ ;;
  esac
  true
}

summary=()
status=0
for t in "${targets[@]}"; do
  seed "$t"
  artifacts="fuzz/artifacts/$t"
  mkdir -p "$artifacts"
  before="$(find "$artifacts" -type f | wc -l)"
  log="fuzz/artifacts/$t.log"
  opts=(-max_total_time="$duration" -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/")
  [ -f "fuzz/dict/$t.dict" ] && opts+=(-dict="fuzz/dict/$t.dict")
  echo "== $t: $duration s" >&2
  set +e
  "$target_dir/$triple/release/$t" "${opts[@]}" "fuzz/corpus/$t" 2>&1 | tee "$log" | grep -E '^(#[0-9]+ +(pulse|DONE)|==[0-9]+==ERROR|SUMMARY|thread .* panicked)' >&2
  rc="${PIPESTATUS[0]}"
  set -e
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  crashes=$(( $(find "$artifacts" -type f | wc -l) - before ))
  corpus="$(find "fuzz/corpus/$t" -type f | wc -l)"
  [ "$rc" = 0 ] || status=1
  summary+=("$t: ${duration} s, ${runs:-?} runs, ${speed:-?} exec/s, corpus $corpus files, crashes $crashes (exit $rc; log $log)")
done
printf '%s\n' "${summary[@]}"
exit "$status"
