#!/usr/bin/env bash
# Measures the desktop app as issue 4 asks, on a release build under Xvfb with its own session bus:
# cold start until the calendar is painted, memory (PSS summed over the app and its WebKit processes) after an
# idle minute with the window open and then closed to the tray, and CPU time and wake-ups over an idle minute
# with the window closed. Prints one line per figure. Takes about three minutes once built.
#   scripts/bench-desktop.sh [--no-build] [--idle SECONDS] [--starts N] [--trace]
# --starts: cold starts to time (default 5; the last one stays for the rest); --trace: each start's steps.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/punctual-target}"

build=1
args=()
# The trace's command and permission exist only in a build with the startup-trace feature.
features=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --trace) features=(--features startup-trace); args+=("$1") ;;
    *) args+=("$1") ;;
  esac
  shift
done

if [ "$build" = 1 ]; then
  "$ROOT/scripts/setup-debian.sh"
  (cd ui && npx --no-install vite build)
  cargo build --release -p punctual-desktop --bin punctual-desktop "${features[@]}"
  cargo build --release -p punctual --bin punctual
fi

exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
  python3 "$ROOT/scripts/bench_desktop.py" \
  --app "$CARGO_TARGET_DIR/release/punctual-desktop" --cli "$CARGO_TARGET_DIR/release/punctual" "${args[@]}"
