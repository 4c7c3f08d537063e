PY ?= .venv/bin/python
OUT ?= out

.PHONY: install test test-slow demo ensemble bench clean

# a fresh virtual environment with crustgf and all its extras
install:
	@echo "[install] fresh virtual environment in .venv (about 1-2 minutes)"
	rm -rf .venv
	python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	@echo "[install] crustgf and its dependencies (numpy, scipy, numba, gmsh, ...), with all extras"
	$(PY) -m pip install --progress-bar off -e ".[all]" | grep -E "^(Collecting|Successfully)" || true
	@$(PY) -c "import crustgf; print('[install] crustgf', crustgf.__version__, 'ready: . .venv/bin/activate')"

.venv/bin/crustgf:
	$(MAKE) install

test: .venv/bin/crustgf
	$(PY) -m ruff check crustgf tests bench
	$(PY) -m pytest -q

test-slow: .venv/bin/crustgf
	$(PY) -m pytest -q -m slow

demo: .venv/bin/crustgf
	PYTHONUNBUFFERED=1 .venv/bin/crustgf demo --out $(OUT)/demo

# structure-uncertainty experiment: 1946 Nankai slip, data from the reference structure, inverted
# with each of 8 perturbed structures (coarse model; ~25 min on 2 cores)
ensemble: .venv/bin/crustgf
	mkdir -p $(OUT)/ensemble
	.venv/bin/crustgf run crustgf/configs/nankai-coarse-ensemble.toml -o $(OUT)/ensemble/nankai.gf.h5
	.venv/bin/crustgf ensemble $(OUT)/ensemble/nankai.gf.h5 --out $(OUT)/ensemble

bench: .venv/bin/crustgf
	PYTHONUNBUFFERED=1 $(PY) bench/run.py

clean:
	rm -rf $(OUT) .pytest_cache
