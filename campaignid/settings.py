"""CampaignID settings: from the environment only, with embedded defaults (see README, "Configuration").

Embedded default: SQLite database and SQLite queue under ``CAMPAIGNID_DATA_DIR`` (``./var``), sandbox
providers on. ``DATABASE_URL`` (PostgreSQL) and ``QUEUE_URL`` (``redis://…``) switch to the scale-out
set-up with no code change.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from cryptography.fernet import Fernet
from django.utils.translation import gettext_lazy as _

from campaignid.lib import env
from campaignid.lib.env import ConfigError

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env.get("CAMPAIGNID_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

CAMPAIGNID_ENV = (env.get("CAMPAIGNID_ENV", "development") or "development").lower()
if CAMPAIGNID_ENV not in ("development", "production"):
    raise ConfigError(f"CAMPAIGNID_ENV must be development or production, not {CAMPAIGNID_ENV!r}")
PRODUCTION = CAMPAIGNID_ENV == "production"
DEBUG = env.get_bool("CAMPAIGNID_DEBUG", False)


def _persisted_secret(name: str, make) -> str:
    """In development a missing secret is generated once into the data directory and reused."""
    path = DATA_DIR / name
    if path.exists():
        return path.read_text().strip()
    value = make()
    path.write_text(value)
    path.chmod(0o600)
    return value


SECRET_KEY = env.get("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ConfigError("SECRET_KEY is required when CAMPAIGNID_ENV=production (or SECRET_KEY_FILE).")
    SECRET_KEY = _persisted_secret(".secret_key", lambda: secrets.token_urlsafe(50))

CAMPAIGNID_ENCRYPTION_KEYS = env.get_list("CAMPAIGNID_ENCRYPTION_KEYS")
if not CAMPAIGNID_ENCRYPTION_KEYS:
    if PRODUCTION:
        raise ConfigError("CAMPAIGNID_ENCRYPTION_KEYS is required in production (Fernet keys, newest first).")
    CAMPAIGNID_ENCRYPTION_KEYS = [_persisted_secret(".encryption_key", lambda: Fernet.generate_key().decode())]

# Where `serve` listens (its --host/--port, passed to its children), and the public URL printed in links and
# on cards: by default the address the service listens on (`manage.py check` warns when they disagree).
CAMPAIGNID_HOST = env.get("CAMPAIGNID_HOST", "127.0.0.1") or "127.0.0.1"
CAMPAIGNID_PORT = env.get_int("CAMPAIGNID_PORT", 8000)
_listen_host = "127.0.0.1" if CAMPAIGNID_HOST in ("0.0.0.0", "::") else CAMPAIGNID_HOST  # noqa: S104
CAMPAIGNID_PUBLIC_URL = (env.get("CAMPAIGNID_PUBLIC_URL", f"http://{_listen_host}:{CAMPAIGNID_PORT}") or "").rstrip("/")
_public_host = urlparse(CAMPAIGNID_PUBLIC_URL).hostname or "localhost"
ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", [_public_host, "127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.get_list("CSRF_TRUSTED_ORIGINS", [CAMPAIGNID_PUBLIC_URL])

# Sandbox providers: on by default, so every channel works end to end with no credentials.
CAMPAIGNID_SANDBOX = env.get_bool("CAMPAIGNID_SANDBOX", not PRODUCTION)
SANDBOX_URL = (env.get("SANDBOX_URL", "http://127.0.0.1:8900") or "").rstrip("/")
# Provider endpoints an organisation administrator may set besides the real ones, the environment's and the
# sandbox's (comma-separated URL prefixes); DHIS2 servers, when set, are limited to this list.
ENDPOINT_ALLOWLIST = env.get_list("ENDPOINT_ALLOWLIST", [])
DHIS2_URL_ALLOWLIST = env.get_list("DHIS2_URL_ALLOWLIST", [])
# The longest a web request may run (gunicorn's --timeout); an unfinished Idempotency-Key expires after it.
REQUEST_TIME_LIMIT_SECONDS = env.get_int("REQUEST_TIME_LIMIT_SECONDS", 120)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "ninja",  # serves the Swagger UI from our own static files (no CDN; the CSP allows 'self' only)
    "campaignid.programs",
    "campaignid.dhis2",
    "campaignid.cards",
    "campaignid.verification",
    "campaignid.channels",
    "campaignid.distribution",
    "campaignid.api",
    "campaignid.dashboard",
    "campaignid.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "campaignid.dashboard.middleware.FrenchFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "campaignid.dashboard.middleware.HealthWorkerMiddleware",
    "campaignid.ops.middleware.AuditMiddleware",
    "campaignid.ops.headers.SecurityHeadersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Provider callbacks (``/webhooks/…``) go through these only (``campaignid.wsgi``): they use no session, user,
# language, CSRF token or message, and are not audited; every answer keeps its security headers.
RECEIPT_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "campaignid.ops.headers.SecurityHeadersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "campaignid.urls"
WSGI_APPLICATION = "campaignid.wsgi.application"
ASGI_APPLICATION = "campaignid.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "campaignid.dashboard.context.dashboard",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
SQLITE_PATH = DATA_DIR / "campaignid.sqlite3"
DATABASE_URL = env.get("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the queue consumer writes; immediate transactions take the
    # write lock up front, and the busy timeout waits for it instead of failing "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 600  # reuse connections: opening one runs the PRAGMAs below
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Queue (Huey) ---------------------------------------------------------------------------------
QUEUE_URL = env.get("QUEUE_URL") or f"sqlite:///{DATA_DIR / 'queue.sqlite3'}"
QUEUE_NAME = env.get("QUEUE_NAME") or "campaignid"
if env.get("PYTEST_XDIST_WORKER") and not env.get("QUEUE_NAME"):
    # Parallel test processes share the queue's storage (one Redis, one data directory): give each its own
    # queue so one process's tasks (or a flush) never reach another's database. Consumers started by a test
    # get the test's queue name explicitly.
    QUEUE_NAME = f"campaignid-{env.get('PYTEST_XDIST_WORKER')}"
QUEUE_IMMEDIATE = env.get_bool("CAMPAIGNID_QUEUE_IMMEDIATE", False)


def _huey():
    parsed = urlparse(QUEUE_URL)
    if parsed.scheme in ("redis", "rediss"):
        from huey import RedisHuey

        return RedisHuey(QUEUE_NAME, url=QUEUE_URL, immediate=QUEUE_IMMEDIATE, utc=True)
    if parsed.scheme == "sqlite":
        from huey import SqliteHuey

        return SqliteHuey(QUEUE_NAME, filename=parsed.path, immediate=QUEUE_IMMEDIATE, utc=True, timeout=30)
    raise ConfigError(f"QUEUE_URL must start with redis://, rediss:// or sqlite:///, not {QUEUE_URL!r}")


HUEY = _huey()

# Provider callbacks: "buffered" stores them and answers at once, a worker applies them in bulk;
# "inline" applies them inside the webhook request.
STATUS_INTAKE = env.get("CAMPAIGNID_STATUS_INTAKE", "buffered")
if STATUS_INTAKE not in ("buffered", "inline"):
    raise ConfigError(f"CAMPAIGNID_STATUS_INTAKE must be buffered or inline, not {STATUS_INTAKE!r}")
# Seconds a provider call may take before its outcome is "unknown" (then resolved before any resend).
PROVIDER_TIMEOUT_SECONDS = env.get_int("PROVIDER_TIMEOUT_SECONDS", 30)

# --- Auth, i18n, static -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed logins are counted per account and per client address (campaignid/ops/throttle.py).
AUTHENTICATION_BACKENDS = ["campaignid.ops.throttle.ThrottledBackend"]
LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "dashboard:login"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["campaignid.formats"]  # English dates ISO, never month-first
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
# Idle timeout: a dashboard session ends after SESSION_IDLE_MINUTES without a request (sliding expiry).
SESSION_COOKIE_AGE = env.get_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION and CAMPAIGNID_PUBLIC_URL.startswith("https://"):
    # Behind a TLS reverse proxy that sets X-Forwarded-Proto (docs/SECURITY.md): secure cookies, HSTS and a
    # redirect of plain-HTTP requests (except /health, for load-balancer probes).
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.get_bool("CAMPAIGNID_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^health$"]
    SECURE_HSTS_SECONDS = env.get_int("CAMPAIGNID_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.get_bool("CAMPAIGNID_HSTS_SUBDOMAINS", False)

# Secrets carried in URLs (Orange receipts secret, holder keys, tokens) are redacted from every log line,
# Django's request logs and gunicorn's access log included (campaignid/lib/logredact.py).
LOGGING_CONFIG = "campaignid.lib.logredact.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact": {"()": "campaignid.lib.logredact.RedactSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env.get("LOG_LEVEL", "INFO")},
    "loggers": {"huey": {"level": "WARNING"}, "django.server": {"level": "WARNING"}},
}

# Operations (docs/OPERATIONS.md): Prometheus scrape access, retention of personal data, card image cache.
METRICS_TOKEN = env.get("METRICS_TOKEN", "") or ""
METRICS_ALLOWED_ADDRESSES = env.get_list("METRICS_ALLOWED_ADDRESSES", ["127.0.0.1", "::1"])
RETENTION_DAYS = env.get_int("RETENTION_DAYS", 90)

# Circuit breaker (distribution/breaker.py): a batch pauses itself when one failure category reaches
# BREAKER_FAILURE_SHARE_PERCENT of at least BREAKER_MIN_OUTCOMES outcomes of a channel in the window.
BREAKER_ENABLED = env.get_bool("BREAKER_ENABLED", True)
BREAKER_WINDOW_SECONDS = env.get_int("BREAKER_WINDOW_SECONDS", 300)
BREAKER_MIN_OUTCOMES = env.get_int("BREAKER_MIN_OUTCOMES", 50)
BREAKER_FAILURE_SHARE = env.get_int("BREAKER_FAILURE_SHARE_PERCENT", 30) / 100
BREAKER_IGNORED = set(env.get_list("BREAKER_IGNORED", ["not_on_whatsapp", "opted_out", "no_recipient", "cancelled"]))
# A "not on WhatsApp" answer is remembered (the next send with a fallback skips WhatsApp for that number) only
# while the account's failure share over the breaker's window stays under this; forgotten after N days.
NOT_ON_WHATSAPP_TRUST_BELOW = env.get_int("NOT_ON_WHATSAPP_TRUST_BELOW_PERCENT", 50) / 100
NOT_ON_WHATSAPP_DAYS = env.get_int("NOT_ON_WHATSAPP_DAYS", 90)
CARD_IMAGE_CACHE_MB = env.get_int("CARD_IMAGE_CACHE_MB", 512)
