#!/usr/bin/env bash
# Times `punctual events --every --json` for one month of the 10k-event set of the core bench (9,800 singles
# and 200 series, benches/core.rs), imported from an .ics, as a whole process with hyperfine, against khal's
# `list` of the same month on a vdir of the same events (issue 19: goal ≤ 50 ms).
#   scripts/bench-events.sh [--debug] [--runs N]
# --debug uses a debug build (to check the script itself; its figures mean nothing). Needs hyperfine
# (apt-get install hyperfine) and python3 with venv (khal goes into a virtualenv under the work dir).
# Run it on a quiet machine: the figures are wall-clock times.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/punctual-target}"

profile=release
runs=20
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) profile=debug ;;
    --runs) runs="$2"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
command -v hyperfine >/dev/null || { echo "hyperfine is missing: apt-get install hyperfine" >&2; exit 1; }

WORK="${PUNCTUAL_BENCH_DIR:-$HOME/.cache/punctual-bench-events}"
rm -rf "$WORK/data" "$WORK/vdir" "$WORK/khal-data"
mkdir -p "$WORK/data" "$WORK/vdir" "$WORK/khal-data"
ICS="$WORK/bench-10k.ics"

BIN="$WORK/punctual"
# The same generator as the import bench, so the figures are about the same events.
if [ "$profile" = release ]; then
  cargo build -q --release -p punctual --bin punctual
  # The target dir may be shared with other checkouts: keep this build's binary before anything rebuilds it.
  cp "$CARGO_TARGET_DIR/release/punctual" "$WORK/punctual"
  PUNCTUAL_BENCH=write-ics PUNCTUAL_BENCH_ICS="$ICS" cargo bench -q -p punctual --bench core
else
  cargo build -q -p punctual --bin punctual
  cp "$CARGO_TARGET_DIR/debug/punctual" "$WORK/punctual"
  PUNCTUAL_BENCH=write-ics PUNCTUAL_BENCH_ICS="$ICS" cargo test -q -p punctual --bench core
fi

# A month the whole set covers (singles span two years from May 2026, series start May–July 2026) and
# that lies inside the materialized horizon of today.
FROM="${PUNCTUAL_BENCH_FROM:-$(date -u +%Y-%m-01)}"
TO="$(date -u -d "$FROM +1 month" +%Y-%m-%d)"

export PUNCTUAL_TIME_ZONE=UTC
"$BIN" --data-dir "$WORK/data" import "$ICS" >/dev/null
count=$("$BIN" --data-dir "$WORK/data" events --from "$FROM" --to "$TO" --all --every --json | wc -l)
echo "punctual: $count occurrences between $FROM and $TO"

# khal reads a vdir: one .ics per event.
python3 - "$ICS" "$WORK/vdir" <<'PY'
import sys, pathlib
text = pathlib.Path(sys.argv[1]).read_bytes().decode()  # keeps CRLF, which read_text would fold
head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//punctual bench//EN\r\n"
out = pathlib.Path(sys.argv[2])
for i, chunk in enumerate(text.split("BEGIN:VEVENT\r\n")[1:]):
    body = chunk.split("END:VEVENT\r\n")[0]
    (out / f"{i}.ics").write_bytes((head + "BEGIN:VEVENT\r\n" + body + "END:VEVENT\r\nEND:VCALENDAR\r\n").encode())
PY
if [ ! -x "$WORK/khal-venv/bin/khal" ]; then
  python3 -m venv "$WORK/khal-venv"
  "$WORK/khal-venv/bin/pip" install -q khal
fi
cat >"$WORK/khal.conf" <<CONF
[calendars]
[[bench]]
path = $WORK/vdir
[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
local_timezone = UTC
default_timezone = UTC
[sqlite]
path = $WORK/khal-data/khal.db
CONF
KHAL="$WORK/khal-venv/bin/khal -c $WORK/khal.conf"
echo "khal: $($KHAL list "$FROM" "$TO" | wc -l) lines between $FROM and $TO (its first run builds its index)"

hyperfine --warmup 2 --runs "$runs" --export-markdown "$WORK/result.md" \
  -n "punctual events --every --json" "$BIN --data-dir $WORK/data events --from $FROM --to $TO --all --every --json" \
  -n "khal list" "$KHAL list $FROM $TO"
echo "results: $WORK/result.md"
