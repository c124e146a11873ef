#!/usr/bin/env bash
# Generates the TypeScript types of the desktop IPC (ui/src/ipc/bindings) from the core's Rust types with
# ts-rs (`--features ts`; each type has `#[ts(export)]`, whose export runs as a test).
#   scripts/gen-bindings.sh          rewrite ui/src/ipc/bindings
#   scripts/gen-bindings.sh --check  fail if the committed bindings differ from the Rust types
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/ui/src/ipc/bindings"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/punctual-target}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# serde_json writes i64 as a JSON number, so `number` (not ts-rs's default `bigint`) is the honest type.
TS_RS_EXPORT_DIR="$tmp/bindings" TS_RS_LARGE_INT=number \
  cargo test -q -p punctual --features ts --lib export_bindings >"$tmp/test.log" 2>&1 || {
  cat "$tmp/test.log" >&2
  echo "gen-bindings: exporting the ts-rs bindings failed" >&2
  exit 1
}
if [ ! -d "$tmp/bindings" ]; then
  echo "gen-bindings: ts-rs exported nothing (no export_bindings tests ran)" >&2
  exit 1
fi

if [ "${1:-}" = "--check" ]; then
  if ! diff -ru "$DEST" "$tmp/bindings"; then
    echo "The TypeScript bindings in ui/src/ipc/bindings are stale: run scripts/gen-bindings.sh and commit the result." >&2
    exit 1
  fi
  echo "bindings: ui/src/ipc/bindings matches the Rust types ($(ls "$tmp/bindings" | wc -l) files)"
else
  rm -rf "$DEST"
  mkdir -p "$(dirname "$DEST")"
  cp -r "$tmp/bindings" "$DEST"
  echo "bindings: wrote $(ls "$DEST" | wc -l) files to ui/src/ipc/bindings"
fi
