#!/usr/bin/env bash
# Runs every test of Punctual on Debian/Ubuntu, installing what is missing first (scripts/setup-debian.sh):
# rustfmt, clippy -D warnings, the Rust tests, the staleness check of the generated TypeScript bindings, the
# UI's type check and unit tests, then the desktop end-to-end tests (the real binary under Xvfb, driven over
# WebDriver by tauri-driver). Fails fast; the last line printed is the end-to-end runner's summary.
#
#   scripts/test.sh                 every test, as CI runs it (.ci/run)
#   scripts/test.sh --under-load    the desktop end-to-end suite three times in a row while `stress-ng --cpu 1`
#                                   keeps one core busy: tests must wait for conditions, never for a speed
set -euo pipefail

UNDER_LOAD=0
for arg in "$@"; do
  case "$arg" in
    --under-load) UNDER_LOAD=1 ;;
    -h | --help)
      sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "scripts/test.sh: unknown argument $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n==> %s\n' "$*"; }

step "setup: install what is missing"
"$ROOT/scripts/setup-debian.sh"
export PATH="$HOME/.cargo/bin:$PATH"
# A Node.js the setup installed from PyPI, where the distribution had none new enough.
if [ -x "${PUNCTUAL_VENV:-$HOME/.cache/punctual-venv}/node-bin/node" ]; then
  export PATH="${PUNCTUAL_VENV:-$HOME/.cache/punctual-venv}/node-bin:$PATH"
fi
# Outside the clone, so that later runs on the same machine reuse the (5-minute) WebKit build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/punctual-target}"
VENV="${PUNCTUAL_VENV:-$HOME/.cache/punctual-venv}"

step "build the UI (ui/dist): the shell embeds it at compile time, so clippy and the tests need it"
(cd ui && npx --no-install vite build)

if [ "$UNDER_LOAD" -eq 0 ]; then
  step "cargo fmt --all -- --check"
  cargo fmt --all -- --check

  step "cargo clippy --workspace --all-targets -- -D warnings"
  cargo clippy --workspace --all-targets -- -D warnings

  step "cargo test --workspace"
  cargo test --workspace

  step "TypeScript bindings are up to date (scripts/gen-bindings.sh --check)"
  "$ROOT/scripts/gen-bindings.sh" --check

  step "UI: type check and unit tests (svelte-check, vitest)"
  (cd ui && npx --no-install svelte-check --tsconfig ./tsconfig.json --fail-on-warnings --output human)
  (cd ui && npx --no-install vitest run)
fi

step "build the desktop binary, the CLI and the fake Google (fake-cloud)"
cargo build -p punctual-desktop --bin punctual-desktop
cargo build -p punctual --bin punctual
cargo build -p punctual --features fake-cloud --bin fake-cloud

export PUNCTUAL_DESKTOP_BIN="$CARGO_TARGET_DIR/debug/punctual-desktop"
export PUNCTUAL_CLI_BIN="$CARGO_TARGET_DIR/debug/punctual"
export PUNCTUAL_FAKE_CLOUD_BIN="$CARGO_TARGET_DIR/debug/fake-cloud"
# Each test fails itself after 2 minutes (conftest.py); this bound is for what no test owns (Xvfb, the bus),
# so that nothing can hold a CI run until its own limit. The whole stage usually takes about a minute.
E2E_LIMIT_S=1500

# Runs the end-to-end suite once; its exit status is pytest's.
run_e2e() {
  # The X server, the session bus and the accessibility daemons that WebKit starts on it write to stderr, some
  # of them after pytest has finished (when Xvfb goes away); they go to a log, so that pytest's summary stays
  # last.
  local session_log status=0
  session_log="$(mktemp -t punctual-e2e-session.XXXXXX.log)"
  echo "(X server and session bus messages: $session_log)"
  timeout --kill-after=30 "$E2E_LIMIT_S" xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
    sh -c 'exec "$0" -m pytest "$1" -p no:cacheprovider -v 2>&1' "$VENV/bin/python" "$ROOT/tests/e2e" \
    2>"$session_log" || status=$?
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "the desktop end-to-end tests did not finish within ${E2E_LIMIT_S}s and were stopped" >&2
  fi
  return "$status"
}

if [ "$UNDER_LOAD" -eq 0 ]; then
  step "desktop end-to-end tests (Xvfb + dbus-run-session + tauri-driver)"
  status=0
  run_e2e || status=$?
  exit "$status"
fi

# One core busy for the whole of the three runs, as a build beside the tests would keep it.
stress-ng --cpu 1 --timeout 0 --quiet &
HOG=$!
trap 'kill "$HOG" 2>/dev/null || true' EXIT
failed=0
for run in 1 2 3; do
  step "desktop end-to-end tests under load, run $run of 3 (stress-ng --cpu 1)"
  run_e2e || failed=$((failed + 1))
done
echo "under load: $((3 - failed)) of 3 end-to-end runs passed"
[ "$failed" -eq 0 ]
