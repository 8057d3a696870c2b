"""Settings for the carbon-data exchange, read from the environment (django-environ).

Every variable is listed with its meaning in `.env.example`. With nothing set, the
embedded defaults give a local installation: SQLite, in-process (eager) Celery tasks,
DEBUG on. With DEBUG off, a missing secret is a hard failure at start-up, never a
silent default.
"""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# No .env file is read here: docker compose passes its env_file as real variables, and
# a stray .env in the project root must not change what `make run` or `make test` do.

DEBUG = env.bool("DJANGO_DEBUG", default=True)


def _secret(name: str, dev_default: str) -> str:
    """A secret from the environment; a development default only while DEBUG is on."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set when DJANGO_DEBUG is off")


SECRET_KEY = _secret("DJANGO_SECRET_KEY", "dev-only-insecure-secret-key-do-not-deploy")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])


def _wrapping_keys() -> dict[str, bytes]:
    """Keys that encrypt platform-held private keys at rest, newest first.

    KEY_ENCRYPTION_KEYS="id1:base64key,id0:base64key": new keys are wrapped with the
    first; older ids stay listed until `rewrap_platform_keys` has moved every key off them.
    """
    raw = env.str("KEY_ENCRYPTION_KEYS", default="")
    if not raw:
        if not DEBUG:
            raise ImproperlyConfigured("KEY_ENCRYPTION_KEYS must be set when DJANGO_DEBUG is off")
        return {"dev": hashlib.sha256(b"key-encryption:" + SECRET_KEY.encode()).digest()}
    keys: dict[str, bytes] = {}
    for item in raw.split(","):
        key_id, sep, encoded = item.strip().partition(":")
        if not sep or not key_id:
            raise ImproperlyConfigured("KEY_ENCRYPTION_KEYS: each item must be 'id:base64key'")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise ImproperlyConfigured(f"KEY_ENCRYPTION_KEYS[{key_id}]: not base64") from exc
        if len(key) != 32:
            raise ImproperlyConfigured(f"KEY_ENCRYPTION_KEYS[{key_id}]: must decode to 32 bytes")
        keys[key_id] = key
    return keys


KEY_ENCRYPTION_KEYS = _wrapping_keys()

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "axes",
    "audit",
    "companies",
    "exchange",
    "verification",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "companies.middleware.ActingCompanyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "companies.context_processors.acting_company",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server and the periodic jobs (run_periodic)
    # share the file; IMMEDIATE transactions take the write lock at BEGIN, so a
    # transaction that reads and then writes waits its turn instead of failing with
    # "database is locked" when another writer committed in between.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: a real broker when REDIS_URL is set, otherwise tasks run eagerly in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
AUDIT_CHECKPOINT_INTERVAL_SECONDS = env.int("AUDIT_CHECKPOINT_INTERVAL_SECONDS", default=60)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Sign a checkpoint when the audit log has grown (the task does nothing otherwise).
    "audit-checkpoint": {
        "task": "audit.tasks.checkpoint_make",
        "schedule": float(AUDIT_CHECKPOINT_INTERVAL_SECONDS),
    },
    # Attested engagements past their validity become expired (hourly is soon enough:
    # credentials carry validUntil themselves, and served footprints check it too).
    "verification-expire": {"task": "verification.tasks.expire_engagements", "schedule": 3600.0},
    # PACT events waiting in the outbox (each commit that queues one also enqueues a run).
    "pact-deliver-outbox": {"task": "exchange.tasks.deliver_outbox", "schedule": 30.0},
    # Suppliers are reminded of requests coming due (each request once).
    "requests-remind": {"task": "exchange.tasks.requests_remind", "schedule": 3600.0},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

# django-axes: lock an account/IP pair out after repeated failed logins.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "companies/locked_out.html"
# Behind N trusted proxies the client address is the N-th from the right in
# X-Forwarded-For (each proxy appends the address it saw); 0 = use REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "companies.middleware.client_ip"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media"))

# Behind the TLS-terminating proxy: trust its X-Forwarded-Proto, and insist on HTTPS.
# Without a trusted proxy the header is the client's word, so it is not read at all.
if TRUSTED_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["companies.api.permissions.IsPersonOrClient"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "companies.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_RATE_LIMIT", default="6000/hour")},
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Carbon-data exchange API",
    "DESCRIPTION": "Platform API of the regional carbon-data exchange.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "MemberRoleEnum": "companies.models.MemberRole",
        "ApiClientRoleEnum": [("editor", "Editor"), ("viewer", "Viewer")],
        "RevocationReasonEnum": "companies.models.RevocationReason",
        "CompanyStatusEnum": "companies.models.CompanyStatus",
        "FootprintStatusEnum": "exchange.models.FootprintStatus",
        "UploadStatusEnum": "exchange.models.UploadStatus",
        "StandardEnum": "verification.models.Standard",
        "EngagementStateEnum": "verification.models.EngagementState",
    },
}

# django-oauth-toolkit: machine clients use the client-credentials grant; secrets are
# stored hashed (shown once at creation).
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("OAUTH_ACCESS_TOKEN_SECONDS", default=3600),
    "SCOPES": {"read": "Read the company's data", "write": "Change the company's data"},
    "DEFAULT_SCOPES": ["read", "write"],
    "PKCE_REQUIRED": True,
    "OAUTH2_VALIDATOR_CLASS": "companies.oauth.CompanyOAuth2Validator",
}

# The zone this installation serves; shown in the portal and used in identifiers.
ZONE_NAME = env.str("ZONE_NAME", default="Demo Industrial Pilot Zone")
# How long an invitation link stays valid.
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=14)

# The audit log: the origin line of its checkpoints and the platform's log key (Ed25519 PEM).
AUDIT_LOG_ORIGIN = env.str("AUDIT_LOG_ORIGIN", default="carbonx.example/audit-log")
AUDIT_LOG_KEY_FILE = env.str("AUDIT_LOG_KEY_FILE", default=str(VAR_DIR / "audit-log-key.pem"))
# Server-side prepared statements for audit appends (faster); turn off behind PgBouncer
# older than 1.21 in transaction-pooling mode.
AUDIT_PREPARED_STATEMENTS = env.bool("AUDIT_PREPARED_STATEMENTS", default=True)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"axes": {"level": "WARNING"}},
}

# django-oauth-toolkit's swappable models, named explicitly so migrations can refer to them.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"

# Footprints: the largest signed document accepted (bytes of its canonical form), the
# largest batch per API call, and the largest bulk-upload file.
FOOTPRINT_MAX_BYTES = env.int("FOOTPRINT_MAX_BYTES", default=256 * 1024)
FOOTPRINT_BATCH_MAX = env.int("FOOTPRINT_BATCH_MAX", default=1000)
# The largest JSON request body the footprint API reads (a batch of signed footprints).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=32 * 1024 * 1024)
BULK_UPLOAD_MAX_BYTES = env.int("BULK_UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
BULK_UPLOAD_MAX_ROWS = env.int("BULK_UPLOAD_MAX_ROWS", default=20000)
DATA_UPLOAD_MAX_MEMORY_SIZE = BULK_UPLOAD_MAX_BYTES + 1024 * 1024

# Where the platform is reached from outside: credentials name their status lists by
# this URL, and companies' did:web identifiers are made from its host (and port).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
DID_WEB_HOST = urlsplit(PUBLIC_BASE_URL).netloc
# Verification: the largest evidence file, the bits of each revocation status list
# (the W3C minimum, 16 KB) and how long a served status-list credential is valid.
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=20 * 1024 * 1024)
STATUS_LIST_SIZE = env.int("STATUS_LIST_SIZE", default=131072)
STATUS_LIST_TTL_SECONDS = env.int("STATUS_LIST_TTL_SECONDS", default=86400)

# --- PACT events ----------------------------------------------------------------------
# Events to and from partner hosts (outside PACT host systems registered with
# `manage.py pact_partner add`): see exchange/pact_events.py.
# Plain http:// partner base URLs, on loopback hosts only (tests, local development).
# Also lets the PACT host routes (below) answer plain HTTP. Default: DEBUG (development).
PACT_ALLOW_HTTP = env.bool("PACT_ALLOW_HTTP", default=DEBUG)
# The `source` of the events the exchange sends; by default //<PUBLIC_BASE_URL host>/3/events.
PACT_EVENT_SOURCE = env.str("PACT_EVENT_SOURCE", default="")
# Timeout (seconds) of each call to a partner (discovery, token, event).
PACT_HTTP_TIMEOUT_SECONDS = env.float("PACT_HTTP_TIMEOUT_SECONDS", default=10.0)
# An extra CA bundle (PEM file) trusted for partner hosts besides the public roots
# (certifi), e.g. a private CA or a test certificate; empty: the public roots only.
PACT_TLS_CA_FILE = env.str("PACT_TLS_CA_FILE", default="")
# Retries: 30 s doubling up to 1 h between attempts; a message is given up (status
# failed) after 72 hours, as PACT recommends.
PACT_OUTBOX_BACKOFF_SECONDS = env.float("PACT_OUTBOX_BACKOFF_SECONDS", default=30.0)
PACT_OUTBOX_BACKOFF_MAX_SECONDS = env.float("PACT_OUTBOX_BACKOFF_MAX_SECONDS", default=3600.0)
PACT_OUTBOX_GIVE_UP_HOURS = env.float("PACT_OUTBOX_GIVE_UP_HOURS", default=72.0)

# --- PACT host API ------------------------------------------------------------------------
# The PACT Technical Specifications' host endpoints (exchange/pact_api): /auth/token,
# /.well-known/openid-configuration, /3/footprints, /3/events, and /2/footprints for v2.3.
# PACT hosts must refuse plain HTTP; PACT_ALLOW_HTTP (above) lets them answer it anyway,
# for local development only.
# Behind a proxy, HTTPS is read from X-Forwarded-Proto only when TRUSTED_PROXY_COUNT > 0.
# ListFootprints page sizes: without ``limit``, and the most one page holds.
PACT_PAGE_SIZE_DEFAULT = env.int("PACT_PAGE_SIZE_DEFAULT", default=100)
PACT_PAGE_SIZE_MAX = env.int("PACT_PAGE_SIZE_MAX", default=1000)
# How long a pagination link keeps working (the specification wants at least 180 s;
# shorter values are raised to that).
PACT_PAGE_LINK_SECONDS = env.int("PACT_PAGE_LINK_SECONDS", default=900)
