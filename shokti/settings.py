"""Settings, read from the environment.

With nothing set, Shokti runs on its embedded default: SQLite (WAL) under
``$SHOKTI_DATA_DIR``, Celery on kombu's filesystem transport and an on-disk
``.eml`` mailbox, so a fresh machine needs no server. ``DATABASE_URL``,
``CELERY_BROKER_URL``, ``CACHE_URL`` and ``EMAIL_URL`` switch each part to a
real service. The start-up refusals for production live in ``shokti.checks``.
"""

import os
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
import dj_email_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_number(name: str, default: float, kind: type = float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        return kind(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or default


DEBUG = env_bool("DEBUG", False)

# The development key is public; shokti.checks refuses to serve with it when DEBUG is off.
INSECURE_DEFAULT_SECRET_KEY = "django-insecure-shokti-development-only"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY") or INSECURE_DEFAULT_SECRET_KEY
SHOKTI_INTERNAL_TOKEN = os.environ.get("SHOKTI_INTERNAL_TOKEN", "")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else ["127.0.0.1", "localhost"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

_data_dir = Path(os.environ.get("SHOKTI_DATA_DIR") or "var")
SHOKTI_DATA_DIR = _data_dir if _data_dir.is_absolute() else BASE_DIR / _data_dir
SHOKTI_DATA_DIR.mkdir(parents=True, exist_ok=True)

SHOKTI_VERSION = "0.1.0"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_prometheus",
    "shokti.apps.ShoktiConfig",
    "audiences.apps.AudiencesConfig",
    "messaging.apps.MessagingConfig",
    "campaigns.apps.CampaignsConfig",
    "analytics.apps.AnalyticsConfig",
    "streams.apps.StreamsConfig",
]

MIDDLEWARE = [
    # First in, last out: every response, errors included, gets the correlation id.
    "shokti.middleware.CorrelationIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves collectstatic's output from the app server, compressed and cached, so gunicorn needs no proxy for it.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shokti.middleware.ApiErrorEnvelopeMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "shokti.urls"
WSGI_APPLICATION = "shokti.wsgi.application"

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
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{SHOKTI_DATA_DIR / 'shokti.sqlite3'}"
_database = dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
if _database["ENGINE"] == "django.db.backends.sqlite3":
    _database["CONN_MAX_AGE"] = 0
    _database["OPTIONS"] = {
        # WAL lets the web process read while the worker writes; IMMEDIATE takes the
        # write lock at BEGIN so concurrent writers wait (timeout) instead of failing.
        "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
# The django-prometheus wrappers add query and connection metrics to /metrics.
_database["ENGINE"] = _database["ENGINE"].replace("django.db.backends.", "django_prometheus.db.backends.")
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, health) ----------------------------------------------

CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django_prometheus.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    # A file cache is shared by the web, worker and beat processes of the embedded default.
    CACHES = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(SHOKTI_DATA_DIR / "cache"),
        }
    }

# --- Celery -------------------------------------------------------------------

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = SHOKTI_DATA_DIR / "broker"
    for _folder in ("queue", "processed"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# --- Email --------------------------------------------------------------------

# Unset or `mailbox:///path`: Shokti's on-disk mailbox, one .eml file per message.
# Otherwise a URL that dj-email-url understands (smtp://host:port, submission://…).
EMAIL_URL = os.environ.get("EMAIL_URL", "")
if not EMAIL_URL or EMAIL_URL.startswith("mailbox:"):
    EMAIL_BACKEND = "shokti.mail.MailboxBackend"
    EMAIL_FILE_PATH = urlparse(EMAIL_URL).path or str(SHOKTI_DATA_DIR / "mail")
else:
    _email = dj_email_url.parse(EMAIL_URL)
    if "EMAIL_BACKEND" not in _email:
        raise ImproperlyConfigured(f"EMAIL_URL has an unknown scheme: {urlparse(EMAIL_URL).scheme!r}")
    globals().update(_email)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Shokti <noreply@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The domain of each Message-ID; empty means DEFAULT_FROM_EMAIL's.
SHOKTI_MAIL_DOMAIN = os.environ.get("SHOKTI_MAIL_DOMAIN", "")

# --- Outbound HTTP and channel providers --------------------------------------

SHOKTI_HTTP_TIMEOUT_SECONDS = env_number("SHOKTI_HTTP_TIMEOUT_SECONDS", 10.0)
SHOKTI_HTTP_MAX_ATTEMPTS = env_number("SHOKTI_HTTP_MAX_ATTEMPTS", 3, int)
SHOKTI_HTTP_BACKOFF_SECONDS = env_number("SHOKTI_HTTP_BACKOFF_SECONDS", 0.5)
SHOKTI_HTTP_BACKOFF_MAX_SECONDS = env_number("SHOKTI_HTTP_BACKOFF_MAX_SECONDS", 5.0)
# Empty: derived from SECRET_KEY (messaging.channels.webhook.webhook_secret), stable across restarts.
SHOKTI_WEBHOOK_SECRET = os.environ.get("SHOKTI_WEBHOOK_SECRET", "")
SHOKTI_WEBHOOK_CONCURRENCY = env_number("SHOKTI_WEBHOOK_CONCURRENCY", 4, int)
SMS_PROVIDER_URL = os.environ.get("SMS_PROVIDER_URL", "")
SMS_PROVIDER_API_KEY = os.environ.get("SMS_PROVIDER_API_KEY", "")
SMS_SENDER_ID = os.environ.get("SMS_SENDER_ID", "Shokti")
SMS_MAX_SEGMENTS = env_number("SMS_MAX_SEGMENTS", 6, int)
WHATSAPP_PROVIDER_URL = os.environ.get("WHATSAPP_PROVIDER_URL", "")
WHATSAPP_PROVIDER_API_KEY = os.environ.get("WHATSAPP_PROVIDER_API_KEY", "")

# --- Domain event stream (NATS JetStream) ------------------------------------

# Empty: no NATS; the outbox still feeds webhook subscriptions.
NATS_URL = os.environ.get("NATS_URL", "")
NATS_PUBLISH_STREAM = os.environ.get("NATS_PUBLISH_STREAM", "SHOKTI_CAMPAIGN")
NATS_CONSUME_STREAM = os.environ.get("NATS_CONSUME_STREAM", "SHOKTI_INBOUND")
NATS_DURABLE = os.environ.get("NATS_DURABLE", "shokti")

# --- Notify ---------------------------------------------------------------------

# "hashing": offline feature hashing, no model; "minilm": all-MiniLM-L6-v2 (pip install -r requirements-ml.txt).
NOTIFY_EMBEDDER = os.environ.get("NOTIFY_EMBEDDER", "hashing")
# How stale a process's in-memory campaign matrix may be before it asks whether campaigns changed.
NOTIFY_MATRIX_CHECK_SECONDS = env_number("NOTIFY_MATRIX_CHECK_SECONDS", 1.0)

# --- Tracking and unsubscribe links -------------------------------------------

# The public origin (and path prefix, if any) that recipients reach: every link
# in a message is built on it, by web and worker processes alike.
SHOKTI_PUBLIC_URL = (os.environ.get("SHOKTI_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
# An address that takes unsubscribe requests by mail, offered in List-Unsubscribe beside the URL.
SHOKTI_UNSUBSCRIBE_MAILTO = os.environ.get("SHOKTI_UNSUBSCRIBE_MAILTO", "")

# --- OpenAI-compatible model --------------------------------------------------

OPENAI_API_KEY = os.environ.get("OPENAI_API_KEY", "")
OPENAI_BASE_URL = os.environ.get("OPENAI_BASE_URL", "")
OPENAI_MODEL = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
OPENAI_TIMEOUT_SECONDS = env_number("OPENAI_TIMEOUT_SECONDS", 20.0)
# The openai client's own retries: exponential backoff on 429, 5xx and timeouts, honouring Retry-After.
OPENAI_MAX_RETRIES = env_number("OPENAI_MAX_RETRIES", 3, int)
# Requests of one batch in flight at once, per worker process.
OPENAI_CONCURRENCY = env_number("OPENAI_CONCURRENCY", 32, int)
OPENAI_MODERATION = env_bool("OPENAI_MODERATION", False)

# --- SmartEngage --------------------------------------------------------------

# Where GET /book sends a customer after checking the deep link's token.
SHOKTI_BOOKING_APP_URL = os.environ.get("SHOKTI_BOOKING_APP_URL", "https://app.example.com/book")
# The organization that internal callers (run-segment, the internal token) act for.
SMARTENGAGE_ORGANIZATION = os.environ.get("SMARTENGAGE_ORGANIZATION", "demo")
SMARTENGAGE_BLOCKLIST = env_list(
    "SMARTENGAGE_BLOCKLIST",
    ["guaranteed", "risk-free", "act now", "winner", "lottery", "password", "গ্যারান্টি", "লটারি", "পাসওয়ার্ড"],
)

# Customers of seed 003 (audiences.customer_auth): email one-time codes and customer JWTs.
# A code lives CUSTOMER_OTP_TTL_SECONDS and allows CUSTOMER_OTP_MAX_ATTEMPTS wrong tries; codes are
# requested at most CUSTOMER_OTP_RATE_LIMIT times per CUSTOMER_OTP_RATE_WINDOW_SECONDS per email and
# per client address (verifications: CUSTOMER_OTP_VERIFY_RATE_LIMIT per address in the same window).
CUSTOMER_OTP_TTL_SECONDS = env_number("CUSTOMER_OTP_TTL_SECONDS", 300, int)
CUSTOMER_OTP_MAX_ATTEMPTS = env_number("CUSTOMER_OTP_MAX_ATTEMPTS", 5, int)
CUSTOMER_OTP_RATE_LIMIT = env_number("CUSTOMER_OTP_RATE_LIMIT", 5, int)
CUSTOMER_OTP_VERIFY_RATE_LIMIT = env_number("CUSTOMER_OTP_VERIFY_RATE_LIMIT", 30, int)
CUSTOMER_OTP_RATE_WINDOW_SECONDS = env_number("CUSTOMER_OTP_RATE_WINDOW_SECONDS", 900, int)
CUSTOMER_TOKEN_TTL_SECONDS = env_number("CUSTOMER_TOKEN_TTL_SECONDS", 86400, int)

# --- Auth, i18n, static -------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = SHOKTI_DATA_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Gzip and Brotli copies made once by collectstatic; URLs stay unhashed so pages render before any collectstatic.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- HTTP API -----------------------------------------------------------------

# Path prefixes whose every error, 404 and 500 included, is the JSON envelope.
SHOKTI_API_PREFIXES = ("/api/", "/internal/", "/admin/smartengage/", "/auth/", "/events", "/services", "/health")
SHOKTI_API_RATE_LIMIT = os.environ.get("SHOKTI_API_RATE_LIMIT", "1200/minute")
# The execution engine: rows per dispatch batch, and how long a claimed row may stay
# `sending` before the sweeper treats its worker as dead.
SHOKTI_BATCH_SIZE = int(os.environ.get("SHOKTI_BATCH_SIZE", "500"))
SHOKTI_SEND_LEASE_SECONDS = int(os.environ.get("SHOKTI_SEND_LEASE_SECONDS", "600"))
# Seed 004: a campaign is scheduled at least this far ahead.
SHOKTI_MIN_SCHEDULE_LEAD_SECONDS = int(os.environ.get("SHOKTI_MIN_SCHEDULE_LEAD_SECONDS", "300"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["shokti.auth.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["shokti.auth.HasOrganizationRole"],
    "DEFAULT_THROTTLE_CLASSES": ["shokti.throttling.ApiTokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "shokti.pagination.EnvelopePagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "shokti.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Shokti API",
    "DESCRIPTION": "Campaigns, SmartEngage and Notify on one marketing platform.",
    "VERSION": SHOKTI_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Logging ------------------------------------------------------------------

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"correlation_id": {"()": "shokti.log.CorrelationIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(correlation_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,
        },
        "text": {"format": "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["correlation_id"],
            "formatter": "text" if DEBUG else "json",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
