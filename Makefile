# Two commands do all the set-up on a fresh machine (Python 3.11):
#   make report   # creates .venv, installs pinned dependencies, builds build/report.{html,pdf}
#   make test     # the same environment, then the test suite (what .ci/run runs)
PYTHON ?= python3.11
VENV   ?= .venv
PROFILE ?= standard
BIN    := $(VENV)/bin

.PHONY: report test clean
report: $(VENV)/.installed
	$(BIN)/vgreport build --profile $(PROFILE)

test: $(VENV)/.installed
	$(BIN)/python -m pytest

$(VENV)/.installed: requirements.txt requirements-test.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-warn-script-location -r requirements.txt -r requirements-test.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

clean:
	rm -rf build $(VENV)
