# ECTI — two commands do all set-up on a fresh machine:
#   make run    install, migrate, seed the demo, serve on http://127.0.0.1:6543 (SQLite + simulator)
#   make test   install the same (plus the browser for UI tests), run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLUGIN_DIRS := $(sort $(dir $(wildcard plugins/*/setup.cfg)))
INSTALL_STAMP := $(VENV)/.installed
CATALOGS := $(wildcard ecti/locale/*/LC_MESSAGES/*.po plugins/*/*/locale/*/LC_MESSAGES/*.po)
export PYTHONWARNINGS ?= ignore::DeprecationWarning,ignore::UserWarning

.PHONY: run test bench install browser cluster cluster-deps catalogs messages lint clean

run: install catalogs
	scripts/run-demo

# Two pytest workers (pytest-xdist), one a core: TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= 2
test: install catalogs browser cluster-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

# Every benchmark at full size (tens of minutes; PostgreSQL as for the tests); prints the rows of docs/performance.md.
bench: install catalogs browser
	$(BIN)/python scripts/bench.py

NODE_STAMP := node_modules/.installed

install: $(INSTALL_STAMP) $(NODE_STAMP)

# The softphone's browser assets (SLDS styles, the Twilio Voice JS SDK) come from npm; never committed.
$(NODE_STAMP): package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

$(INSTALL_STAMP): setup.cfg pyproject.toml $(wildcard plugins/*/setup.cfg)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 'setuptools<82' wheel
	$(BIN)/python -m pip install --quiet -e '.[testing,dev]' $(foreach d,$(PLUGIN_DIRS),-e $(d))
	touch $@

# Compiled message catalogs (.mo) are build output, made from the .po files in git.
catalogs: install
	@for po in $(CATALOGS); do \
	  mo=$${po%.po}.mo; \
	  if [ ! -f $$mo ] || [ $$po -nt $$mo ]; then $(BIN)/pybabel compile --use-fuzzy -i $$po -o $$mo >/dev/null || exit 1; fi; \
	done

# The browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null) \
	  || { echo "could not install chromium (apt-get)"; exit 1; }; \
	fi

# Several app processes behind HAProxy, job workers on Redis, on PostgreSQL (scripts/cluster.py,
# docs/operations.md). APPS, WORKERS, PORT choose the shape.
APPS ?= 2
WORKERS ?= 2
PORT ?= 8080
cluster: install catalogs cluster-deps
	$(BIN)/python scripts/cluster.py --apps $(APPS) --workers $(WORKERS) --port $(PORT)

# HAProxy and redis-server come from Debian, installed as the browser is.
cluster-deps:
	@if [ ! -x /usr/sbin/haproxy ] || [ ! -x /usr/bin/redis-server ]; then \
	  echo "installing Debian's haproxy and redis-server for the cluster"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy redis-server >/dev/null) \
	  || { echo "could not install haproxy/redis-server (apt-get)"; exit 1; }; \
	fi

# Developers: refresh the message template and catalogs after changing user-visible text.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _ --no-location --omit-header -o ecti/locale/ecti.pot ecti plugins
	$(BIN)/pybabel update -i ecti/locale/ecti.pot -d ecti/locale -D ecti --no-fuzzy-matching

clean:
	rm -rf $(VENV) var build *.egg-info node_modules
