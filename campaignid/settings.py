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

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "ninja",  # Swagger UI served from its own static files (works offline), not a CDN
    "campaignid.programs",
    "campaignid.dhis2",
    "campaignid.cards",
    "campaignid.verification",
    "campaignid.channels",
    "campaignid.distribution",
    "campaignid.api",
    "campaignid.dashboard",
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

# --- Auth, i18n, static -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "dashboard:login"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
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
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION and CAMPAIGNID_PUBLIC_URL.startswith("https://"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.get("LOG_LEVEL", "INFO")},
    "loggers": {"huey": {"level": "WARNING"}, "django.server": {"level": "WARNING"}},
}
