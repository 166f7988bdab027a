# The two set-up commands: `make run` (demo on SQLite) and `make test` (all tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := app:create_app
KERN := app/static/vendor/kern/kern.min.css
MO := app/translations/en/LC_MESSAGES/messages.mo app/translations/de/LC_MESSAGES/messages.mo

.PHONY: run test test-postgres test-all install install-dev assets translations migrate extract-messages clean lint lock

# Dependencies come from the lock files (exact versions with hashes, made by `make lock`
# from pyproject.toml); the package itself is installed on top, without resolving again.
$(BIN)/.installed: pyproject.toml requirements/main.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r requirements/main.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed pyproject.toml requirements/dev.lock
	$(BIN)/pip install -q --require-hashes -r requirements/dev.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# After changing the dependencies in pyproject.toml: pin them again (newest versions allowed).
lock: $(BIN)/.installed
	$(BIN)/pip install -q pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe -o requirements/main.lock pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --extra dev -o requirements/dev.lock pyproject.toml

# Lint and types: ruff (rules and format) and mypy, as CI runs them.
lint: install-dev
	$(BIN)/ruff check app tests bench scripts migrations
	$(BIN)/ruff format --check app tests bench scripts migrations
	$(BIN)/mypy

install: $(BIN)/.installed assets translations
install-dev: $(BIN)/.installed-dev assets translations

assets: $(KERN)
$(KERN): package.json
	npm install --no-audit --no-fund --loglevel=error
	rm -rf app/static/vendor/kern && mkdir -p app/static/vendor
	cp -r node_modules/@kern-ux/native/dist app/static/vendor/kern
	touch $@

translations: $(MO)
$(MO): app/translations/en/LC_MESSAGES/messages.po app/translations/de/LC_MESSAGES/messages.po | $(BIN)/.installed
	$(BIN)/pybabel compile -d app/translations

migrate: install
	$(BIN)/alembic upgrade head

# Demo: SQLite under instance/, demo data on first start, two-factor relaxed so that
# every demo account can log in at once (REQUIRE_TWO_FACTOR=true keeps it on).
run: migrate
	REQUIRE_TWO_FACTOR=$${REQUIRE_TWO_FACTOR:-false} $(BIN)/flask seed-demo --if-empty
	@echo ""
	@echo "Fallkonferenz läuft auf http://127.0.0.1:$(PORT)  (Beenden mit Strg+C)"
	@echo "Demo-Anmeldungen, alle mit dem Passwort Fallkonferenz-Demo-2026:"
	@$(BIN)/python -c "from app.demo import ACCOUNTS; [print(f'  {e:42} {r}') for e, _n, r, *_ in ACCOUNTS]"
	REQUIRE_TWO_FACTOR=$${REQUIRE_TWO_FACTOR:-false} DEMO_DATA=true $(BIN)/gunicorn -c gunicorn.conf.py --workers 2 \
	  --bind 127.0.0.1:$(PORT) --access-logfile - 'app:create_app()'

# pytest-xdist: one worker process per core (`PYTEST_WORKERS=0 make test` runs in one
# process); each worker has its own database (tests/conftest.py). The slowest 15 tests are
# listed at the end, to see where the time goes.
PYTEST_WORKERS ?= auto
PYTEST := $(BIN)/pytest -n $(PYTEST_WORKERS) --durations=15

test: install-dev
	scripts/system-deps.sh
	$(PYTEST) $(PYTEST_ARGS)

test-postgres: install-dev
	scripts/system-deps.sh
	$(PYTEST) --db=postgres $(PYTEST_ARGS)

# --ignore-dirs: Babel skips folders starting with "_" by default, which would leave out
# app/templates/_macros/.
extract-messages: $(BIN)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l --ignore-dirs '.*' -o app/translations/messages.pot .
	$(BIN)/pybabel update -N -i app/translations/messages.pot -d app/translations

clean:
	rm -rf $(VENV) node_modules app/static/vendor
