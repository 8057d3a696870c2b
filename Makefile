# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.lock pyproject.toml | sha256sum | cut -c1-12)

.PHONY: run run-https test lint typecheck schema schema-check check-migrations ci-checks bench clean

$(STAMP): requirements.lock pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

# Local installation: SQLite, Celery tasks in-process (run_periodic is the beat), demo
# zone, http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py run_periodic & periodic=$$!; \
	trap 'kill $$periodic 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# The same app over HTTPS for API clients that refuse plain HTTP (self-signed certificate).
run-https: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python scripts/dev_certificate.py var/certs
	DJANGO_SECURE_COOKIES=true $(BIN)/gunicorn config.wsgi:application \
		--bind 127.0.0.1:8443 --certfile var/certs/dev-cert.pem --keyfile var/certs/dev-key.pem \
		--workers 2 --access-logfile -

# The whole suite. SQLite by default; DATABASE_URL=postgres://... and REDIS_URL=... for the real stack.
test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

# The OpenAPI schema, generated with warnings as errors; docs/openapi.yaml is the committed copy.
schema: $(STAMP)
	$(BIN)/python manage.py spectacular --fail-on-warn --validate --file docs/openapi.yaml

schema-check: $(STAMP)
	$(BIN)/python manage.py spectacular --fail-on-warn --validate --file var/openapi.yaml
	diff -u docs/openapi.yaml var/openapi.yaml || (echo "docs/openapi.yaml is stale: run make schema" && exit 1)

check-migrations: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run

ci-checks: lint typecheck check-migrations schema-check

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .mypy_cache .ruff_cache
