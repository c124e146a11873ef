#!/usr/bin/env bash
# Installs what is missing (scripts/setup-debian.sh), builds the UI and the desktop app, and runs it on the
# local calendar (no account needed). Extra arguments are ignored; set PUNCTUAL_DATA_DIR to use another data
# directory. With no display (a server, CI), the app runs under Xvfb.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

"$ROOT/scripts/setup-debian.sh"
export PATH="$HOME/.cargo/bin:$PATH"
# A Node.js the setup installed from PyPI, where the distribution had none new enough.
if [ -x "${PUNCTUAL_VENV:-$HOME/.cache/punctual-venv}/node-bin/node" ]; then
  export PATH="${PUNCTUAL_VENV:-$HOME/.cache/punctual-venv}/node-bin:$PATH"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/punctual-target}"

(cd ui && npx --no-install vite build)
cargo build -p punctual-desktop --bin punctual-desktop

BIN="$CARGO_TARGET_DIR/debug/punctual-desktop"
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec "$BIN"
fi
echo "run.sh: no display found; running Punctual under Xvfb (it is running, but nothing is visible)" >&2
exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$BIN"
