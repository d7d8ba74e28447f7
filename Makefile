# The two commands a newcomer needs: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/organiser_portal
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# The embedded default: SQLite under var/, tasks in process, email to var/mail/. `make run PORT=8001` serves on
# another port; links in emails and SMS (PORTAL_URL) follow it unless .env sets PORTAL_URL.
PORT ?= 8000
RUN_ENV := DEBUG=1 PORT=$(PORT)

.PHONY: install run test test-faults lint check-services bench bench-data bench-smoke clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(RUN_ENV) $(PY) manage.py migrate --no-input
	$(RUN_ENV) $(PY) manage.py seed_demo --if-empty
	$(RUN_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports  # the import contracts in pyproject.toml: layers, no cycles

check-services:
	@DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) scripts/check_services.py

# Run a second time with the compiled-SQL shortcut off (organiser_portal/compiled_queries.py): the plain ORM
# must give the same orders and the same access decisions. Only two places read through CompiledQuery, so only
# the tests that exercise them run again:
# - orders/selectors.py order_detail (the order page: order, tickets, timeline, payments, messages with their
#   delivery events, refunds): tests/orders/test_selectors.py (its data, region scoping) and test_views.py (the
#   page, its query budget);
# - organiser_portal/permissions.py access_organisation (every page's membership, region limit, organisation
#   switcher): test_permissions.py, guests/test_my_events.py (limits, switcher), security/test_every_url.py (who
#   gets 404/403 on every URL, region-limited managers too) and test_scoping.py (other organisations, regions).
# The rest of tests/orders and tests/security (services called directly, property tests of bad input, headers)
# reads nothing through it: the main pass covers them once.
PLAIN_ORM_TESTS := tests/orders/test_selectors.py tests/orders/test_views.py \
	tests/organiser_portal/test_permissions.py tests/guests/test_my_events.py \
	tests/security/test_every_url.py tests/security/test_scoping.py

test: install lint check-services
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(VENV)/bin/pytest
	$(MAKE) test-faults
	COMPILED_QUERIES=0 DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(VENV)/bin/pytest $(PLAIN_ORM_TESTS) -m "not e2e"

# The fault suite (docs/reliability.md): Redis stopped and frozen under the portal, a full Redis, worker processes
# killed mid-send, the email service answering late, the database refusing a recording, a webhook storm. Each test
# starts what it breaks on a free port of its own (redis-server, a worker, an imitation of the email service), never
# the shared 5432/6379 servers; the database is the test database. A bare `pytest` leaves these out.
test-faults: install
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(VENV)/bin/pytest -m faults

# Benchmarks (issue 5, bench/): a dedicated database holding the million-order data set.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
BENCH_ORDERS ?= 1000000
BENCH_ENV := DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) SECRET_KEY=bench-only-secret-key \
	ANYMAIL_WEBHOOK_SECRET=bench-hook:bench-only-webhook-password

# The seeding's bulk statements run for minutes: without the web tier's statement and lock timeouts (migrate lifts
# them by itself).
bench-data: install
	createdb -h 127.0.0.1 -U postgres portal_bench 2>/dev/null || true
	$(BENCH_ENV) $(PY) manage.py migrate --no-input
	DB_STATEMENT_TIMEOUT=0 DB_LOCK_TIMEOUT=0 $(BENCH_ENV) $(PY) bench/seed.py --orders $(BENCH_ORDERS) --seed 1 --replace

bench: install
	$(BENCH_ENV) $(PY) bench/run.py

# The suite on a thousand orders (also part of `make test`).
bench-smoke: install
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest tests/bench

clean:
	rm -rf var/portal.sqlite3 var/mail
