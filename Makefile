# The two quickstart commands: `make demo` and `make test`. Each installs what it needs into .venv.
PY := .venv/bin/python

.PHONY: demo test lint typecheck pytest bench install

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
