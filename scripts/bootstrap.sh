#!/usr/bin/env bash
# Create .venv (Python >= 3.10) and install claude-web with its dev extras; a no-op when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.11 python3.12 python3.13 python3.10 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "bootstrap: Python >= 3.10 is required" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.claude-web-installed
want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  echo "$want" > "$stamp"
fi
# The npm packages of the AI SDK conformance harness (tests/aisdk); without node/npm those tests skip locally
# (CI, with CLAUDE_WEB_REQUIRE_SERVICES=1, fails them instead).
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  tests/aisdk/install.sh >/dev/null || echo "bootstrap: npm ci in tests/aisdk failed; the AI SDK conformance tests will fail" >&2
else
  echo "bootstrap: node/npm not found; the AI SDK conformance tests (tests/aisdk) will be skipped" >&2
fi
