"""Settings for decisionhub, read from the environment (and `.env`) with django-environ."""

import re
import secrets
import sys
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
TESTING = "pytest" in sys.modules
# Tests see the same settings on every machine: a developer's local .env is not read.
if (BASE_DIR / ".env").exists() and not TESTING:
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)


def _local_secret_key() -> str:
    """A key generated once per checkout, for local runs and tests only."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _local_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "axes",
    "csp",
    "sources",
    "constraints",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves static files with far-future caching and compression: no separate web server
    # is needed on one small machine.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Compresses pages (the dashboard's 130 kB of HTML is about 7 kB gzipped): Django's
    # GZip, which adds random bytes to each response against BREACH, flushing each chunk of
    # a streamed page (constraints/compression.py). Below WhiteNoise, which serves its own
    # precompressed static files.
    "constraints.compression.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it turns a lockout into a 429 response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "decisionhub.urls"
WSGI_APPLICATION = "decisionhub.wsgi.application"

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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # WAL lets the web server read while the worker writes; IMMEDIATE takes the write lock
    # up front so two writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Hashing is deliberately slow; the suite only needs it to be correct.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTHENTICATION_BACKENDS = [
    "constraints.throttle.LoginThrottle",
    "constraints.permissions.OneQueryPermissions",  # permissions only, before ModelBackend
    "django.contrib.auth.backends.ModelBackend",
]
# Our own login page, for every active user; the admin keeps its own.
LOGIN_URL = "constraints-login"
LOGOUT_REDIRECT_URL = "constraints-login"

# Repeated failed logins are throttled by django-axes: after AXES_FAILURE_LIMIT failures for
# one username from one address, that pair is locked out for AXES_COOLOFF_TIME hours.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_TIME", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
if env.bool("BEHIND_TLS_PROXY", default=False):
    # Behind one reverse proxy the client address is the last one it appended.
    AXES_IPWARE_PROXY_COUNT = 1
    AXES_IPWARE_PROXY_ORDER = "right-most"
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# "Yesterday" and every daily window are days in this zone.
BUSINESS_TIMEZONE = env.str("BUSINESS_TIMEZONE", default="UTC")

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # collectstatic's target; may stay empty
# `collectstatic` (scripts/run does it) writes each file under a content-hashed name with its
# gzip (and brotli, when installed) twin; WhiteNoise serves the compressed one for good.
# Tests and STATIC_MANIFEST=false runs need no collectstatic: names stay plain.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=not TESTING)
# Serve straight from static/ too, so the app works without `collectstatic` on one machine;
# scripts/run sets STATIC_USE_FINDERS=false: it serves what collectstatic compressed, under
# hashed names even with DEBUG on (constraints/staticfiles.py).
WHITENOISE_USE_FINDERS = env.bool("STATIC_USE_FINDERS", default=True)
STATIC_STORAGE = "whitenoise.storage.CompressedStaticFilesStorage"
if STATIC_MANIFEST:
    STATIC_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
if STATIC_MANIFEST and not WHITENOISE_USE_FINDERS:
    STATIC_STORAGE = "constraints.staticfiles.CollectedStaticFilesStorage"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": STATIC_STORAGE},
}
# Browsers may cache for good what cannot change under its name: vendored libraries carry their
# version in the file name, collected files their content's hash (12 hex digits).
WHITENOISE_IMMUTABLE_FILE_TEST = r"^/static/(vendor/|.+\.[0-9a-f]{12}\.\w+$)"

# Security: strict by default, relaxed only for local DEBUG runs.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# The test client speaks plain HTTP.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not (DEBUG or TESTING))
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Load balancers and uptime monitors probe the health endpoint over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload asks browsers to hard-code HTTPS for the domain and every subdomain, which
    # is hard to undo; the deployer opts in with SECURE_HSTS_PRELOAD=true, we do not decide it.
    "security.W021",
]
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp 4): scripts, styles, fonts and images from our own origin
# only, no plugins, no framing, forms post back here. Plotly draws its SVG with inline style
# attributes and one <style> element it adds at run time, so styles also allow 'unsafe-inline'
# (styles cannot run code); scripts never do.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if env.bool("BEHIND_TLS_PROXY", default=False):
    # TLS ends at the proxy, which sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# django-q2: the ORM broker by default, Redis when REDIS_URL is set.
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": "decisionhub",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=1800),
    # Must be longer than timeout, or the ORM broker hands a running task out again.
    "retry": env.int("Q_RETRY", default=2400),  # checked by sources.system_checks
    "max_attempts": 3,
    "catch_up": False,
    "save_limit": 500,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 2

SLACK_WEBHOOK_URL = env.str("SLACK_WEBHOOK_URL", default="")
# The Slack app's signing secret (Basic Information → App Credentials): Approve and Reject
# buttons in Slack post to /slack/interactions/, which refuses every request without it.
SLACK_SIGNING_SECRET = env.str("SLACK_SIGNING_SECRET", default="")
DASHBOARD_URL = env.str("DASHBOARD_URL", default="http://127.0.0.1:8000/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {
            "()": "sources.logsafe.OneLineFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "line"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own console handler would print a second, multi-line copy of each error.
        "django": {"handlers": [], "level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        # axes logs every successful login reset at INFO; only lockouts matter.
        "axes": {"level": "WARNING"},
    },
}

# Platform addresses: overridable for proxies, sandboxes and tests. Secrets are read where used.
GOOGLE_OAUTH_TOKEN_URL = env.str(
    "GOOGLE_OAUTH_TOKEN_URL", default="https://oauth2.googleapis.com/token"
)
GOOGLE_ADS_API_URL = env.str("GOOGLE_ADS_API_URL", default="https://googleads.googleapis.com")
# Pinned API versions: defaults are the newest stable ones in sources/versions.py, which also
# holds their sunset dates (checked by a system check, /healthz and an alert).
GOOGLE_ADS_API_VERSION = env.str("GOOGLE_ADS_API_VERSION", default="v26")
META_GRAPH_API_URL = env.str("META_GRAPH_API_URL", default="https://graph.facebook.com")
# An old-style META_GRAPH_API_URL that ends in its version (…/v24.0) still names the version.
_meta_url_version = re.search(r"/(v\d+\.\d+)/?$", META_GRAPH_API_URL)
if _meta_url_version:
    META_GRAPH_API_URL = META_GRAPH_API_URL[: _meta_url_version.start()]
META_API_VERSION = env.str(
    "META_API_VERSION", default=_meta_url_version.group(1) if _meta_url_version else "v27.0"
)
GA4_API_URL = env.str("GA4_API_URL", default="https://analyticsdata.googleapis.com/v1beta")
HUBSPOT_API_URL = env.str("HUBSPOT_API_URL", default="https://api.hubapi.com")
STRIPE_API_URL = env.str("STRIPE_API_URL", default="https://api.stripe.com")

# /healthz: the worker is down when its heartbeat (a task run every minute) is older than
# this; an enabled source is stale when its last successful pull is older than this.
HEALTH_HEARTBEAT_MAX_AGE_SECONDS = env.int("HEALTH_HEARTBEAT_MAX_AGE_SECONDS", default=300)
HEALTH_SOURCE_MAX_AGE_HOURS = env.int("HEALTH_SOURCE_MAX_AGE_HOURS", default=36)
# Anonymous /healthz says only healthy or not; a monitor sending this token as
# `Authorization: Bearer <token>` (or a signed-in user) sees each part.
HEALTHZ_TOKEN = env.str("HEALTHZ_TOKEN", default="")

# Automated actions: true stops every budget change, pause, resume and webhook (the admin has
# a toggle too). Webhook payloads are signed (HMAC-SHA256) when a secret is set.
ACTIONS_KILL_SWITCH = env.bool("ACTIONS_KILL_SWITCH", default=False)
ACTIONS_WEBHOOK_SECRET = env.str("ACTIONS_WEBHOOK_SECRET", default="")
# Action webhooks refuse loopback, private and link-local addresses (this server's own
# network, cloud metadata) unless the deployer allows them, e.g. for an on-premises receiver.
ACTIONS_WEBHOOK_ALLOW_PRIVATE = env.bool("ACTIONS_WEBHOOK_ALLOW_PRIVATE", default=False)

# Alerts: email is the fallback channel when ALERT_EMAIL_TO (or the admin's policy) names
# recipients; EMAIL_URL picks the backend (smtp+tls://user:pass@host:587, consolemail://).
ALERT_EMAIL_TO = env.list("ALERT_EMAIL_TO", default=[])
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="decisionhub@localhost")
