# Two commands do all the set-up on a fresh machine (Python 3.11 by default; 3.12 and later too):
#   make report   # creates .venv, installs pinned dependencies, builds build/report.{html,pdf}
#   make test     # the same environment, then the test suite (what .ci/run runs)
#   make test PYTHON=python3.12   # another interpreter: in a fresh clone, after `make clean`,
#                                 # or beside the first with VENV=.venv-3.12
PYTHON ?= python3.11
VENV   ?= .venv
PROFILE ?= standard
BIN    := $(VENV)/bin
PYVERSION = $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)

.PHONY: report test clean
report: $(VENV)/.installed
	$(BIN)/vgreport build --profile $(PROFILE)

test: $(VENV)/.installed
	$(BIN)/python -m pytest

# One stamp per interpreter version, so that asking for another Python never reuses this venv silently.
$(VENV)/.installed: $(VENV)/.installed-$(PYVERSION)
	touch $@

$(VENV)/.installed-$(PYVERSION): requirements.txt requirements-test.txt pyproject.toml
	@test -n "$(PYVERSION)" || { echo "$(PYTHON) not found: pass PYTHON=/path/to/python3.11 (or later)" >&2; exit 2; }
	@if test -x $(BIN)/python && test "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$(PYVERSION)"; then \
		echo "$(VENV) holds another Python than $(PYTHON) ($(PYVERSION)): run 'make clean' or pass VENV=.venv-$(PYVERSION)" >&2; exit 2; fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-warn-script-location -r requirements.txt -r requirements-test.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

clean:
	rm -rf build $(VENV)
