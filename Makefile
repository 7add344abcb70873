# The two quickstart commands: `make demo` and `make test`. Each installs what it needs into .venv.
PY := .venv/bin/python

.PHONY: demo test lint typecheck pytest bench install frontend

install:
	@scripts/bootstrap.sh

demo: install
	$(PY) example_project/run_demo.py $(DEMO_ARGS)

SRC := claude_web claude_web_django claude_web_flask tests bench example_project

lint: install
	$(PY) -m ruff check $(SRC)
	$(PY) -m ruff format --check $(SRC)

typecheck: install
	$(PY) -m mypy --strict claude_web claude_web_django claude_web_flask

pytest: install
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

test: lint typecheck pytest

bench: install
	$(PY) bench/run.py

# The AI SDK example page's bundle (example_project/chat/static/chat/aisdk_chat.js, committed: `make demo` needs no
# Node). Rebuild it after changing example_project/frontend/src/ or its pinned packages (needs Node.js 20+ and npm).
frontend:
	cd example_project/frontend && npm ci --no-audit --no-fund && npm run build
