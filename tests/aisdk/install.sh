#!/usr/bin/env bash
# Install the pinned npm packages of the AI SDK conformance harness (the real `ai` client, see package.json) with
# `npm ci` when node_modules is missing or package-lock.json changed since the last install; a no-op otherwise.
# Used by .ci/run, scripts/bootstrap.sh and tests/aisdk/node_client.py alike. `ai` 7 declares node >= 22: on
# Node 20 npm prints EBADENGINE warnings, expected (the conformance tests are what proves it runs there).
set -euo pipefail
cd "$(dirname "$0")"
want=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.claude-web-lock-sha256
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
npm ci --no-audit --no-fund
echo "$want" > "$stamp"
