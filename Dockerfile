# syntax=docker/dockerfile:1
# The carbonx image: one image for web (gunicorn), worker and beat (Celery) and the
# one-shot migrate step; deploy/entrypoint.sh picks the role. See docs/operations.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=config.settings

# An unprivileged user with fixed ids, so that files on the volumes keep one owner
# across rebuilds (docs/operations.md restores the audit log key as 10001:10001).
RUN groupadd --system --gid 10001 carbonx \
    && useradd --system --uid 10001 --gid carbonx --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin carbonx

WORKDIR /app

# Dependencies first (their layer survives code changes), exactly as locked: every
# file is checked against its hash. The lock also carries the dev tools of the test
# suite; the runtime imports none of them.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY . .

# The project itself, for the `carbonx` console script (setuptools and wheel come from
# the lock, so the build needs nothing unpinned). The code is run from /app
# (PYTHONPATH), where settings find templates/ and static/.
RUN pip install --no-deps --no-build-isolation . \
    && rm -rf build ./*.egg-info

# Writable places for the unprivileged user; the code stays owned by root. The
# directories under /var/lib/carbonx are volume mount points: a new named volume takes
# over their owner and mode.
RUN mkdir -p /app/var /app/staticfiles /var/lib/carbonx/keys /var/lib/carbonx/media \
    && chown carbonx:carbonx /app/var /app/staticfiles /var/lib/carbonx/keys /var/lib/carbonx/media \
    && chmod 0700 /var/lib/carbonx/keys \
    && chmod 0755 /app/deploy/entrypoint.sh

USER carbonx

# Static files are collected at build time, with DEBUG off so that the manifest that
# whitenoise needs is written. The secret and key-encryption key below exist only for
# this command (settings refuse to load without them); they are not kept in the image.
RUN DJANGO_DEBUG=false \
    DJANGO_SECRET_KEY=collectstatic-at-build-time-only \
    KEY_ENCRYPTION_KEYS=build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    python manage.py collectstatic --noinput --verbosity 0

EXPOSE 8000

ENTRYPOINT ["/bin/sh", "/app/deploy/entrypoint.sh"]
CMD ["web"]
