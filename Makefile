# NI Academy — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements-installed
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export FLASK_APP := lms
export NIA_ENV ?= development

.PHONY: run test venv sysdeps migrate import-courses bench clean help translations messages

help:
	@echo "make run    - install, migrate, import courses and start every component"
	@echo "make test   - install and run the whole test suite"
	@echo "make bench  - run the benchmarks in benchmarks/"
	@echo "make messages - re-extract UI strings into lms/translations/*.po (then translate the new ones)"

$(STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required (set PYTHON=/path/to/python3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP) translations

# UI catalogues: the .po files are committed, the .mo files are built from them (and ignored by git).
MO_FILES := $(patsubst %.po,%.mo,$(wildcard lms/translations/*/LC_MESSAGES/messages.po))
translations: $(MO_FILES)
lms/translations/%/LC_MESSAGES/messages.mo: lms/translations/%/LC_MESSAGES/messages.po | $(STAMP)
	$(VENV)/bin/pybabel compile --statistics -l $* -i $< -o $@

messages: $(STAMP)
	$(PY) -m lms.translations update

# Optional system packages (Debian): bubblewrap for the grading sandbox, mosquitto for the
# production-like broker, chromium for the browser tests. Installed when we are root with apt;
# otherwise the platform falls back (embedded broker) or says what is missing.
sysdeps:
	@bash scripts/sysdeps.sh

migrate: venv
	$(PY) -m flask --app lms db upgrade --directory lms/migrations

import-courses: migrate
	$(PY) -m flask --app lms courses import courses

run: venv sysdeps translations import-courses
	$(PY) -m lms.launcher

test: venv sysdeps translations
	bash scripts/test.sh

bench: venv
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) instance var .pytest_cache
