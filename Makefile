# The two commands a newcomer needs are `make run` and `make test`; both set themselves up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint bench check-content clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	$(PY) -m bot run

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m bot content check

test: lint
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/engine.py
	$(PY) bench/search.py
	$(PY) bench/telegram.py
	$(PY) bench/complaints.py
	$(PY) bench/whatsapp.py
	$(PY) bench/quiz.py
	$(PY) bench/stats.py
	$(PY) bench/campaign.py
	$(PY) bench/audio.py
	$(PY) bench/scale.py

check-content: $(STAMP)
	$(PY) -m bot content check

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
