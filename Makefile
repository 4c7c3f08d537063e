PY ?= .venv/bin/python
OUT ?= out

.PHONY: install test test-slow demo bench clean

install:
	python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[all]"

test:
	$(PY) -m pytest -q

test-slow:
	$(PY) -m pytest -q -m slow

demo:
	PYTHONUNBUFFERED=1 $(PY) -m crustgf.demo --out $(OUT)/demo

bench:
	PYTHONUNBUFFERED=1 $(PY) bench/run.py

clean:
	rm -rf $(OUT) .pytest_cache
