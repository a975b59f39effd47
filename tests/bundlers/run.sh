#!/usr/bin/env bash
# Installs the bundlers (one `npm ci` for every app) and the packed SDK tarball the way an app
# does (`npm i chat-sdk-wasm-<version>.tgz`), then runs the bundler and package tests.
# Needs scripts/build (pkg/, the tarball, target/release/chat-server). Prints the time it adds.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
started=$SECONDS

tarball=$(ls "$ROOT"/chat-sdk-wasm-*.tgz 2>/dev/null | head -n1 || true)
if [ -z "$tarball" ]; then
  echo "no chat-sdk-wasm-*.tgz at the repository root: run scripts/build first" >&2
  exit 1
fi
if [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then
  npm ci --no-audit --no-fund
  touch node_modules/.installed
fi
npm install --no-save --no-audit --no-fund "$tarball"
echo "tests/bundlers: installed in $(( SECONDS - started )) s"

node --test --test-concurrency=1 ./*.test.mjs
echo "tests/bundlers: done in $(( SECONDS - started )) s"
