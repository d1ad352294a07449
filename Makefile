# course-nn: the README's commands. `make book` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
JOBS ?= 2

.PHONY: help venv book book-clean test test-fast lint release student-release grade system-deps node-deps bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -e 's/:.*## /\t/' | column -t -s $$'\t'

venv: $(STAMP)  ## create .venv and install the pinned stack and course_nn (editable)

$(STAMP): requirements.txt requirements-lock.txt pyproject.toml jupyterlab/overrides.json
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c requirements-lock.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@# the course's JupyterLab defaults (no news pop-up): JupyterLab reads overrides.json here
	install -D -m 644 jupyterlab/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@touch $@

book: $(STAMP)  ## build the HTML book into _build/html (notebooks execute, cached; a course_nn change empties the cache)
	$(PY) -m course_nn.book_cache _build/.jupyter_cache
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo ""
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

book-clean:  ## remove the built book and its execution cache
	rm -rf _build

# tool:Debian package; only the packages of missing tools are installed (a machine whose
# npm comes with NodeSource's nodejs cannot take Debian's npm package: they conflict)
SYSTEM_TOOLS := chromium:chromium chromedriver:chromium-driver bwrap:bubblewrap npm:npm
system-deps:  ## install Debian packages the tests use: headless Chromium + driver (page tests), bubblewrap (grading sandbox), npm (axe-core)
	@missing=""; for pair in $(SYSTEM_TOOLS); do command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; fi

node-deps: node_modules/.package-lock.json  ## axe-core for the accessibility test, from package-lock.json (npm ci; no CDN)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

test: $(STAMP) system-deps node-deps book  ## every test: unit, properties, notebooks (nbval), release integrity, grading, browser
	COURSE_NN_REQUIRE_BROWSER=1 $(PY) -m pytest -n $(JOBS) --dist loadfile --nbval-lax --nbval-current-env \
	  tests book solutions

test-fast: $(STAMP)  ## unit and property tests only (no notebooks, no book)
	$(PY) -m pytest -n $(JOBS) -m "not slow and not book and not browser" tests

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check course_nn tests benchmarks

release: $(STAMP)  ## regenerate exercises/ from solutions/ (nbgrader generate_assignment)
	$(PY) -m course_nn.release

student-release: $(STAMP) $(if $(filter for-credit,$(MODE)),book)  ## student bundle: dist/student/ (open), or MODE=for-credit dist/student-for-credit/ (no answer code)
	$(PY) -m course_nn.student_release --mode $(or $(MODE),open)

grade: $(STAMP)  ## grade submitted/<student>/<assignment>/ with the hardened grader: make grade A=ex01_linear_regression
	$(BIN)/course-nn grade $(A)

bench: $(STAMP)  ## benchmarks (print figures): grading throughput vs nbgrader, a class of 1,000 (overhead, report), digits vs PyTorch and scikit-learn, each exercise notebook's time vs book ch01
	$(PY) benchmarks/grading.py
	$(PY) benchmarks/class_scale.py --n 1000
	$(PY) benchmarks/digits.py
	$(PY) benchmarks/notebooks.py

clean: book-clean
	rm -rf $(VENV) .pytest_cache .hypothesis
