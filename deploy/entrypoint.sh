#!/bin/sh
# Entry point of the carbonx image (see Dockerfile, docker-compose.yml, docs/operations.md).
#
#   migrate             check the configuration, apply migrations, and make sure the audit
#                       log key exists (created on the very first start only); prints the
#                       log's public verifier key
#   web                 refresh the static files, then serve config.wsgi with gunicorn on :8000
#   worker              a Celery worker
#   beat                the Celery beat scheduler (exactly one may run)
#   healthcheck web     exit 0 when the local gunicorn answers /healthz with 200
#   healthcheck worker  exit 0 when the local Celery worker answers a ping
#   manage ARGS...      python manage.py ARGS...
#   anything else       executed as given
set -eu

cd /app

say() { printf 'entrypoint: %s\n' "$*" >&2; }
fail() {
    say "ERROR: $*"
    exit 1
}

# Values that settings would quietly default, but which on a real installation are mistakes.
# (A missing DJANGO_SECRET_KEY or KEY_ENCRYPTION_KEYS is refused by settings itself.)
preflight() {
    [ -n "${DJANGO_ALLOWED_HOSTS:-}" ] ||
        fail "DJANGO_ALLOWED_HOSTS is empty: set it to the public host name (CARBONX_DOMAIN) in .env"
    [ -n "${ZONE_NAME:-}" ] ||
        fail "ZONE_NAME is empty: set it to the name of the zone in .env"
    case "${PUBLIC_BASE_URL:-}" in
        https://*) ;;
        *) fail "PUBLIC_BASE_URL must be the public https:// address of the exchange (e.g. https://${CARBONX_DOMAIN:-exchange.example.org}): credentials and did:web identifiers are made from it" ;;
    esac
    case "${AUDIT_LOG_ORIGIN:-}" in
        "" | carbonx.example/audit-log)
            fail "AUDIT_LOG_ORIGIN is empty or the demo default: set it in .env (e.g. ${CARBONX_DOMAIN:-exchange.example.org}/audit-log) before the first start; never change it afterwards"
            ;;
    esac
}

# The audit log key signs every checkpoint. The application creates it when it is missing;
# that is right exactly once, on the first start. If checkpoints already exist, a missing
# file means a lost or unmounted volume, and a new key would silently make every
# checkpoint published so far unverifiable: refuse to start instead.
ensure_audit_log_key() {
    python - <<'PY'
import os
import stat
import sys
from pathlib import Path

import django

django.setup()

from django.conf import settings

from audit import services
from audit.models import Checkpoint

path = Path(settings.AUDIT_LOG_KEY_FILE)
if not path.exists():
    signed = Checkpoint.objects.count()
    if signed and os.environ.get("CARBONX_ACCEPT_NEW_AUDIT_LOG_KEY") != "yes":
        sys.exit(
            f"entrypoint: ERROR: the audit log key {path} is missing, but {signed} checkpoint(s) "
            "were signed with it. Restore the key file from the backup (docs/operations.md, "
            "'The audit log key'); nothing was started."
        )
    print(f"entrypoint: creating the audit log key {path}", file=sys.stderr)
verifier_key = services.log_verifier_key()
mode = stat.S_IMODE(path.stat().st_mode)
if mode & 0o077:
    try:
        path.chmod(0o600)
        print(f"entrypoint: {path} was mode {mode:o}; set to 600", file=sys.stderr)
    except PermissionError:
        print(f"entrypoint: WARNING: {path} is mode {mode:o}; it must be 600", file=sys.stderr)
print(f"entrypoint: audit log origin {settings.AUDIT_LOG_ORIGIN}", file=sys.stderr)
print(f"entrypoint: audit log verifier key {verifier_key}", file=sys.stderr)
PY
}

healthcheck_web() {
    python - <<'PY'
import http.client
import os
import sys

# Ask with a Host that Django accepts, as the proxy would (HTTPS seen by the proxy).
hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")]
host = next((h.lstrip(".") for h in hosts if h and h != "*"), "localhost")
connection = http.client.HTTPConnection("127.0.0.1", 8000, timeout=5)
connection.request("GET", "/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"})
status = connection.getresponse().status
sys.exit(0 if status == 200 else f"/healthz answered {status}")
PY
}

LOG_LEVEL="${LOG_LEVEL:-INFO}"

command="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$command" in
    migrate)
        preflight
        python manage.py migrate --noinput
        ensure_audit_log_key
        ;;
    web)
        python manage.py collectstatic --noinput --verbosity 0
        # Workers: WEB_CONCURRENCY (gunicorn reads it); anything else: GUNICORN_CMD_ARGS.
        # The access log is the proxy's (it sees the client's address); gunicorn logs errors.
        exec gunicorn config.wsgi:application \
            --bind 0.0.0.0:8000 \
            --worker-tmp-dir /dev/shm \
            --no-control-socket \
            --error-logfile - \
            --log-level "$LOG_LEVEL"
        ;;
    worker)
        set -- celery -A config worker --loglevel "$LOG_LEVEL"
        if [ -n "${CELERY_WORKER_CONCURRENCY:-}" ]; then
            set -- "$@" --concurrency "$CELERY_WORKER_CONCURRENCY"
        fi
        exec "$@"
        ;;
    beat)
        # The schedule file only remembers when each entry last ran; losing it is harmless
        # (the checkpoint task is idempotent), so it stays inside the container.
        exec celery -A config beat --loglevel "$LOG_LEVEL" --schedule /tmp/celerybeat-schedule
        ;;
    healthcheck)
        case "${1:-web}" in
            web) healthcheck_web ;;
            worker) exec celery -A config inspect ping --destination "celery@${HOSTNAME:-$(hostname)}" --timeout 10 ;;
            *) fail "healthcheck: unknown target ${1}" ;;
        esac
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    *)
        exec "$command" "$@"
        ;;
esac
