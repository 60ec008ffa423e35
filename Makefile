# Two commands do all the set-up on a fresh machine (Python 3.11 by default; 3.12 and later too):
#   make report   # creates .venv, installs the locked dependencies, builds build/report.{html,pdf}
#   make test     # the same environment, then the test suite (what .ci/run runs)
#   make test PYTHON=python3.12   # another interpreter: in a fresh clone, after `make clean`,
#                                 # or beside the first with VENV=.venv-3.12
PYTHON ?= python3.11
VENV   ?= .venv
PROFILE ?= standard
BIN    := $(VENV)/bin
PYVERSION = $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)

# requirements.lock: every package, transitive ones included, with its hashes, for Python 3.11 on
# Linux x86-64 (what CI runs); torch is its CPU build, from PyTorch's CPU index. Another Python
# installs the direct pins of requirements.in instead (no lock exists for it).
LOCK_PYTHON := 3.11
TORCH_INDEX := https://download.pytorch.org/whl/cpu
# `make lock` refreshes the lock after editing requirements.in (uv, in a venv of its own).
# LOCK_SOURCES: where uv may find torch's CPU wheel (override for a local wheel folder).
LOCK_SOURCES ?= --extra-index-url $(TORCH_INDEX)
UV_VERSION := 0.13.9

.PHONY: report test clean lock
report: $(VENV)/.installed
	$(BIN)/vgreport build --profile $(PROFILE)

test: $(VENV)/.installed
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest

# One stamp per interpreter version, so that asking for another Python never reuses this venv silently.
$(VENV)/.installed: $(VENV)/.installed-$(PYVERSION)
	touch $@

$(VENV)/.installed-$(PYVERSION): requirements.lock requirements.in pyproject.toml
	@test -n "$(PYVERSION)" || { echo "$(PYTHON) not found: pass PYTHON=/path/to/python3.11 (or later)" >&2; exit 2; }
	@if test -x $(BIN)/python && test "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$(PYVERSION)"; then \
		echo "$(VENV) holds another Python than $(PYTHON) ($(PYVERSION)): run 'make clean' or pass VENV=.venv-$(PYVERSION)" >&2; exit 2; fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if test "$(PYVERSION)" = "$(LOCK_PYTHON)"; then \
		echo "$(BIN)/python -m pip install --require-hashes -r requirements.lock"; \
		$(BIN)/python -m pip install --quiet --no-warn-script-location --require-hashes -r requirements.lock \
		|| { echo "make: could not install requirements.lock; torch 2.13.0+cpu is on PyTorch's CPU index:" \
		          "PIP_EXTRA_INDEX_URL=$(TORCH_INDEX) make $(or $(MAKECMDGOALS),report)" >&2; exit 2; }; \
	else \
		echo "$(BIN)/python -m pip install -r requirements.in  (requirements.lock is for Python $(LOCK_PYTHON))"; \
		$(BIN)/python -m pip install --quiet --no-warn-script-location -r requirements.in; \
	fi
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

lock: requirements.in pyproject.toml
	test -x .venv-lock/bin/uv || { $(PYTHON) -m venv .venv-lock && .venv-lock/bin/python -m pip install --quiet uv==$(UV_VERSION); }
	.venv-lock/bin/uv pip compile requirements.in -o requirements.lock --generate-hashes --quiet \
		--python-version $(LOCK_PYTHON) --python-platform x86_64-manylinux_2_28 \
		$(LOCK_SOURCES) --index-strategy unsafe-best-match --custom-compile-command "make lock"

clean:
	rm -rf build $(VENV)
