# Two commands do all the set-up on a fresh machine (Python 3.11 or later, Linux or macOS):
#   make report   # creates .venv, installs the runtime lock and torch, builds build/report.{html,pdf}
#   make test     # the same venv with the test tools (the development lock), then the test suite (.ci/run)
#   make test PYTHON=python3.12   # another interpreter: after `make clean`, or beside the first
#                                 # with VENV=.venv-3.12
# The set-up (tools/install.py) marks the venv installed only when every step succeeded, so a
# failed or interrupted one is repaired by running the same command again.
PYTHON ?= $(if $(shell command -v python3.11 2>/dev/null),python3.11,python3)
VENV   ?= .venv
PROFILE ?= standard
# torch: auto (its CPU build where pip finds it, else PyPI's, a CUDA build on Linux: about 3 GB),
# cpu (the CPU build or stop), pypi (PyPI's torch). TORCH_INDEX: where the CPU build is.
TORCH  ?= auto
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
BIN    := $(VENV)/bin
PYVERSION = $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)

# requirements.lock (runtime: `make report`) and requirements-dev.lock (runtime + test tools:
# `make test`) hold every package but torch, hashed, for every Python from 3.11 on Linux and
# macOS; torch comes from requirements-torch-cpu.lock or the +cpu pin, else requirements-torch.lock.
TORCH_LOCKS := requirements-torch.lock requirements-torch-cpu.lock
INSTALL = $(PYTHON) tools/install.py --venv $(VENV) --torch $(TORCH) --torch-index $(TORCH_INDEX)
# `make lock` refreshes the locks after editing requirements.in or requirements-dev.in (uv, in a venv
# of its own). LOCK_SOURCES: where uv finds torch's CPU wheel for its hash (e.g. --find-links DIR).
LOCK_SOURCES ?= --extra-index-url $(TORCH_INDEX)
UV_VERSION := 0.13.9

.PHONY: report test setup clean clean-cache lock python
report: $(VENV)/.installed-report-$(PYVERSION)
	$(BIN)/vgreport build --profile $(PROFILE)

# the set-up of `make report` alone (CI checks the last edition with vgreport before it builds)
setup: $(VENV)/.installed-report-$(PYVERSION)

test: $(VENV)/.installed-dev-$(PYVERSION)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest

# One stamp per lock and interpreter version, so that asking for another Python never reuses this
# venv silently (the set-up refuses a venv of another version).
$(VENV)/.installed-report-$(PYVERSION): requirements.lock $(TORCH_LOCKS) pyproject.toml tools/install.py | python
	$(INSTALL) --lock requirements.lock --stamp $@

$(VENV)/.installed-dev-$(PYVERSION): requirements-dev.lock requirements.lock $(TORCH_LOCKS) pyproject.toml tools/install.py | python
	$(INSTALL) --lock requirements-dev.lock --stamp $@ --stamp $(VENV)/.installed-report-$(PYVERSION)

python:
	@test -n "$(PYVERSION)" || { echo "make: $(PYTHON) not found: pass PYTHON=/path/to/python3.11 (or later)" >&2; exit 2; }

lock: requirements.in requirements-dev.in pyproject.toml
	test -x .venv-lock/bin/uv || { $(PYTHON) -m venv .venv-lock && .venv-lock/bin/python -m pip install --quiet uv==$(UV_VERSION); }
	.venv-lock/bin/python tools/lock.py .venv-lock/bin/uv $(LOCK_SOURCES)

# The venv and the build outputs; the cell cache (build/cache: each cell trained, minutes to hours
# of computing) stays: `make clean-cache` removes it.
clean:
	rm -rf $(VENV)
	test ! -d build || find build -mindepth 1 -maxdepth 1 ! -name cache -exec rm -rf {} +

clean-cache:
	rm -rf build/cache
