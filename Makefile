PY ?= .venv/bin/python
OUT ?= out

.PHONY: install test test-slow demo bench clean

# a fresh virtual environment with crustgf and all its extras
install:
	rm -rf .venv
	python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[all]"

.venv/bin/crustgf:
	$(MAKE) install

test: .venv/bin/crustgf
	$(PY) -m pytest -q

test-slow: .venv/bin/crustgf
	$(PY) -m pytest -q -m slow

demo: .venv/bin/crustgf
	PYTHONUNBUFFERED=1 $(PY) -m crustgf.demo --out $(OUT)/demo

bench: .venv/bin/crustgf
	PYTHONUNBUFFERED=1 $(PY) bench/run.py

clean:
	rm -rf $(OUT) .pytest_cache
