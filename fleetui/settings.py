"""fleetui settings: every value comes from the environment, with embedded defaults.

The embedded defaults (SQLite, a SQLite-backed Celery broker, a local MLflow store) need
no server, so a laptop runs the whole product; production points the same variables at
PostgreSQL, Redis and an MLflow tracking server. `.env.example` lists every variable.
"""

import datetime
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from fleetui.common.broker import transport_options as broker_transport_options
from fleetui.common.env import env_default_price, env_model_prices, envbool, envfloat, envint, envlist

BASE_DIR = Path(__file__).resolve().parent.parent


DEMO_MODE = envbool("FLEETUI_DEMO")
DEBUG = envbool("DEBUG", default=False)

DATA_DIR = Path(os.environ.get("FLEETUI_DATA_DIR") or BASE_DIR / "data")
DATA_DIR.mkdir(parents=True, exist_ok=True)

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")

# The fixed key below signs sessions for the demo, development and the test suite only, and
# only while every served host name is a loopback one: anyone could forge a session with it.
LOCAL_ONLY_SECRET_KEY = "insecure-local-only-key-set-DJANGO_SECRET_KEY-in-production"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1", "testserver"})
TESTING = envbool("FLEETUI_TESTING") or "pytest" in sys.modules
# Commands run beside `make demo` (e.g. create_api_token) use its database: the demo's data
# folder (it holds demo-catalog/) counts as demo mode for the key, without FLEETUI_DEMO=1.
DEMO_DATA_DIR = not os.environ.get("DATABASE_URL") and (DATA_DIR / "demo-catalog").is_dir()
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY or SECRET_KEY == LOCAL_ONLY_SECRET_KEY:
    public_hosts = [host for host in ALLOWED_HOSTS if host not in LOOPBACK_HOSTS]
    if TESTING or ((DEMO_MODE or DEBUG or DEMO_DATA_DIR) and not public_hosts):
        SECRET_KEY = LOCAL_ONLY_SECRET_KEY
    elif DEMO_MODE or DEBUG or DEMO_DATA_DIR:
        raise ImproperlyConfigured(
            f"The local-only secret key serves loopback host names only, but ALLOWED_HOSTS names "
            f"{', '.join(public_hosts)}. Set DJANGO_SECRET_KEY to a long random string, e.g. "
            "the output of: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    else:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set"
            + (" (it holds the local-only key, which is refused here)" if SECRET_KEY else "")
            + ". In production set it to a long random string (python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'). In a demo or development checkout set FLEETUI_DEMO=1 "
            "or DEBUG=1 to use the local-only key, e.g. FLEETUI_DEMO=1 python manage.py create_api_token owner"
        )
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "runs",
    "triage",
    "notifications",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "fleetui.common.http_errors.HostileRequestMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "runs.accounts.middleware.ApiTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "runs.accounts.middleware.LoginRequiredEverywhereMiddleware",
    # Last, as django-axes asks: turns a refused login into the "too many attempts" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fleetui.urls"
WSGI_APPLICATION = "fleetui.wsgi.application"
ASGI_APPLICATION = "fleetui.asgi.application"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'fleetui.sqlite3'}",
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat share one SQLite file.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not memory, so worker processes started by the tests share the test database.
    # One file per test process, so two test runs in one checkout never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-fleetui-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes, failures kept in the database): after FLEETUI_LOGIN_FAILURE_LIMIT
# wrong passwords for one username from one address, logins are refused for the cool-off,
# which every further try starts again. `manage.py axes_reset` lifts every lock at once.
AUTHENTICATION_BACKENDS = [
    "runs.accounts.backends.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("FLEETUI_LOGIN_FAILURE_LIMIT", 10)
LOGIN_COOLOFF_MINUTES = envint("FLEETUI_LOGIN_COOLOFF_MINUTES", 15)
if AXES_FAILURE_LIMIT < 1 or LOGIN_COOLOFF_MINUTES < 1:
    raise ImproperlyConfigured("FLEETUI_LOGIN_FAILURE_LIMIT and FLEETUI_LOGIN_COOLOFF_MINUTES must be 1 or more")
AXES_COOLOFF_TIME = datetime.timedelta(minutes=LOGIN_COOLOFF_MINUTES)
# One username from one address: a stranger elsewhere cannot lock a colleague out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_CALLABLE = "runs.accounts.views.login_locked_out"
# Behind FLEETUI_PROXY_COUNT reverse proxies the client's address is in X-Forwarded-For.
PROXY_COUNT = envint("FLEETUI_PROXY_COUNT", 0)
if PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every start when it is missing
# Pages name static files by a hash of their content (`collectstatic` writes them, compressed, to
# STATIC_ROOT; `make demo` runs it): WhiteNoise tells browsers to keep those for ten years, as a new
# version gets a new name. DEBUG serves the plain names from static/ without collectstatic, and so
# do the tests unless they ask for the manifest (tests/runs/dashboards/test_static_assets.py).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
# Files asked for by their plain name (not hashed) may change with the next release: an hour.
WHITENOISE_MAX_AGE = 0 if DEBUG else envint("FLEETUI_STATIC_MAX_AGE", 3600)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A refused CSRF check answers JSON under /api/ (the other error answers: handler400… in fleetui/urls.py).
CSRF_FAILURE_VIEW = "fleetui.common.http_errors.csrf_failure"
# Request bodies above this are answered 413 before any view reads them (GitHub's deliveries stay far below).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# HTTPS in production (README, "Running it in production"): all off by default for the local run.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", default=False)


def proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """`X-Forwarded-Proto` -> ("HTTP_X_FORWARDED_PROTO", "https"): the TLS proxy's header that marks HTTPS."""
    value = os.environ.get(name, "").strip()
    if value.lower() in {"", "0", "false", "no", "off"}:
        return None
    if value.lower() in {"1", "true", "yes", "on"}:
        value = "X-Forwarded-Proto"
    if not value.replace("-", "").replace("_", "").isalnum() or not value.isascii():
        raise ImproperlyConfigured(f"{name} must be a header name such as X-Forwarded-Proto, got {value!r}")
    return "HTTP_" + value.upper().replace("-", "_"), "https"


# Trust it only behind a proxy that sets or strips it on every request.
SECURE_PROXY_SSL_HEADER = proxy_ssl_header("SECURE_PROXY_SSL_HEADER")

# Untrusted text (verifier output, judge rationales, repository names) is rendered on
# every page, so scripts may come only from our own static files.
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
}

# --- Celery -------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = (
    os.environ.get("CELERY_BROKER_URL") or REDIS_URL or f"sqla+sqlite:///{DATA_DIR / 'celery-broker.sqlite3'}"
)
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Liveness of in-flight work (rerun items, import runs): a worker beats several times per timeout;
# work whose worker has not beaten for this many seconds is taken back by a watchdog and retried.
FLEETUI_HEARTBEAT_TIMEOUT = envfloat("FLEETUI_HEARTBEAT_TIMEOUT", 60)
# How often beat sends the watchdogs: fleetui.common.models.watchdog_interval(), a twelfth of the timeout.
HEARTBEAT_WATCHDOG_INTERVAL = max(1.0, min(60.0, min(FLEETUI_HEARTBEAT_TIMEOUT, CELERY_TASK_TIME_LIMIT + 5) / 12))
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Redis: an acks_late task still running when the visibility timeout passes is handed to a second worker, so
# the timeout stays well above the hard time limit. The embedded SQLite broker: WAL connections (broker.py).
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(
    CELERY_BROKER_URL, visibility_timeout=CELERY_TASK_TIME_LIMIT * 2
)
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
IMPORT_INTERVAL_SECONDS = envint("FLEETUI_IMPORT_INTERVAL", 60)
CLUSTER_REBUILD_INTERVAL = envint("FLEETUI_CLUSTER_REBUILD_INTERVAL", 6 * 3600)
GITHUB_SYNC_INTERVAL = envint("GITHUB_SYNC_INTERVAL", 15 * 60)
SLACK_SYNC_INTERVAL = envint("SLACK_SYNC_INTERVAL", 24 * 3600)
# Teams' digests: the first round of a day posts each digest, later rounds reply in its thread with changes.
TEAM_DIGEST_INTERVAL = envint("FLEETUI_TEAM_DIGEST_INTERVAL", 3600)
CELERY_BEAT_SCHEDULE = {
    "import-traces": {"task": "runs.tasks.import_traces_task", "schedule": IMPORT_INTERVAL_SECONDS},
    "rebuild-clusters": {"task": "triage.tasks.clusters_rebuild_all_task", "schedule": CLUSTER_REBUILD_INTERVAL},
    "refresh-pull-requests": {"task": "runs.tasks.pull_requests_refresh_task", "schedule": GITHUB_SYNC_INTERVAL},
    "sync-slack-channels": {"task": "notifications.tasks.slack_directory_sync_task", "schedule": SLACK_SYNC_INTERVAL},
    "resolve-ownership": {"task": "notifications.tasks.ownership_resolve_task", "schedule": SLACK_SYNC_INTERVAL},
    "prune-webhook-deliveries": {"task": "runs.tasks.webhook_deliveries_prune_task", "schedule": 24 * 3600},
    "team-inbox-round": {"task": "notifications.tasks.team_inbox_round_task", "schedule": TEAM_DIGEST_INTERVAL},
    # Takes back rerun items whose worker stopped beating.
    "recover-reruns": {
        "task": "runs.tasks_reruns.reruns_watchdog_task",
        "schedule": HEARTBEAT_WATCHDOG_INTERVAL,
        "kwargs": {"follow": False},
    },
    # Take back nudge sends, review pushes and webhook deliveries whose worker stopped beating.
    "recover-nudge-sends": {
        "task": "notifications.tasks.nudge_deliveries_recover_task",
        "schedule": HEARTBEAT_WATCHDOG_INTERVAL,
    },
    "recover-review-pushes": {
        "task": "runs.tasks.review_decisions_recover_task",
        "schedule": HEARTBEAT_WATCHDOG_INTERVAL,
    },
    "recover-webhook-deliveries": {
        "task": "runs.tasks.webhook_deliveries_recover_task",
        "schedule": HEARTBEAT_WATCHDOG_INTERVAL,
    },
}

# --- MLflow -------------------------------------------------------------------------
MLFLOW_TRACKING_URI = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{DATA_DIR / 'mlflow.db'}"
MLFLOW_EXPERIMENTS = envlist("MLFLOW_EXPERIMENTS")
MLFLOW_UI_URL = os.environ.get("MLFLOW_UI_URL", "")
# Write clusters, layers and review decisions back to MLflow as assessments (docs/mlflow-writeback.md).
MLFLOW_WRITEBACK = envbool("FLEETUI_MLFLOW_WRITEBACK", default=False)
# A long agent session starts before one import and ends after it: every import
# re-reads the traces that ended in this trailing window, deduplicated by trace id.
IMPORT_REWIND_SECONDS = envint("FLEETUI_IMPORT_REWIND", 15 * 60)
IMPORT_PAGE_SIZE = envint("FLEETUI_IMPORT_PAGE_SIZE", 200)
# Raw verifier output kept per call; head and tail survive, the original size is recorded.
VERIFIER_OUTPUT_CAP = envint("FLEETUI_VERIFIER_OUTPUT_CAP", 1_000_000)

# A dead tracking server should fail an import in seconds, not after minutes of retries.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")

# --- Failure clustering -------------------------------------------------------------
CLUSTER_THRESHOLD = envfloat("FLEETUI_CLUSTER_THRESHOLD", 0.8)

# --- GitHub -------------------------------------------------------------------------
GITHUB_API_URL = os.environ.get("GITHUB_API_URL") or "https://api.github.com"
# Where pull requests live; blank: github.com, or the Enterprise host of GITHUB_API_URL (`https://host/api/v3`).
# Imports accept a trace's fleet.pr_url only on this host.
GITHUB_WEB_URL = os.environ.get("GITHUB_WEB_URL", "")
GITHUB_TOKEN = os.environ.get("GITHUB_TOKEN", "")
GITHUB_WEBHOOK_SECRET = os.environ.get("GITHUB_WEBHOOK_SECRET", "")
GITHUB_SYNC_CONCURRENCY = envint("GITHUB_SYNC_CONCURRENCY", 4)
GITHUB_TIMEOUT = envint("GITHUB_TIMEOUT", 10)

# --- Ownership and Slack ------------------------------------------------------------
SLACK_API_URL = os.environ.get("SLACK_API_URL") or "https://slack.com/api/"
SLACK_BOT_TOKEN = os.environ.get("SLACK_BOT_TOKEN", "")
SLACK_INCLUDE_PRIVATE = envbool("SLACK_INCLUDE_PRIVATE", default=True)
SLACK_TIMEOUT = envint("SLACK_TIMEOUT", 10)
FLEETUI_CATALOG_PATH = os.environ.get("FLEETUI_CATALOG_PATH", "")
BACKSTAGE_URL = os.environ.get("BACKSTAGE_URL", "")
BACKSTAGE_TOKEN = os.environ.get("BACKSTAGE_TOKEN", "")
CHANNEL_MATCH_THRESHOLD = envfloat("FLEETUI_CHANNEL_MATCH_THRESHOLD", 0.7)
# Where links in Slack messages point: the address people use to reach this server.
FLEETUI_BASE_URL = os.environ.get("FLEETUI_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# An open agent pull request with no activity for this many days is stale (a team may set its own).
FLEETUI_STALE_DAYS = envint("FLEETUI_STALE_DAYS", 7)

# --- Reruns -------------------------------------------------------------------------
FLEETUI_RUNNER = os.environ.get("FLEETUI_RUNNER", "demo" if DEMO_MODE else "command")
FLEETUI_RUNNER_COMMAND = os.environ.get("FLEETUI_RUNNER_COMMAND", "")
# Below the soft task time limit, so a slow run fails with its reason instead of being killed.
FLEETUI_RUNNER_TIMEOUT = envint("FLEETUI_RUNNER_TIMEOUT", 1500)
FLEETUI_RUNNER_URL = os.environ.get("FLEETUI_RUNNER_URL", "")
FLEETUI_RUNNER_SECRET = os.environ.get("FLEETUI_RUNNER_SECRET", "")
FLEETUI_RUNNER_K8S_NAMESPACE = os.environ.get("FLEETUI_RUNNER_K8S_NAMESPACE", "fleet-agents")
FLEETUI_RUNNER_K8S_IMAGE = os.environ.get("FLEETUI_RUNNER_K8S_IMAGE", "")
FLEETUI_RUNNER_K8S_TEMPLATE = os.environ.get("FLEETUI_RUNNER_K8S_TEMPLATE", "")
FLEETUI_RUNNER_K8S_API_URL = os.environ.get("FLEETUI_RUNNER_K8S_API_URL", "")
# The agent gets an allow-list, never this server's environment (runs/reruns/runners/environment.py):
# FLEETUI_RUNNER_ENV_<NAME>=value gives it <NAME>=value; FLEETUI_RUNNER_PASS_ENV=A,B hands on A and B.
FLEETUI_RUNNER_ENV = {
    name.removeprefix("FLEETUI_RUNNER_ENV_"): value
    for name, value in os.environ.items()
    if name.startswith("FLEETUI_RUNNER_ENV_") and name != "FLEETUI_RUNNER_ENV_"
}
FLEETUI_RUNNER_PASS_ENV = envlist("FLEETUI_RUNNER_PASS_ENV")
RERUN_MAX_BATCH = envint("FLEETUI_RERUN_MAX_BATCH", 2000)
# USD per million tokens for attempts that recorded tokens but no cost and no priced model (below), e.g.
# FLEETUI_DEFAULT_PRICE="3,15" for 3 input and 15 output; unset, such attempts add no dollars to cluster costs.
FLEETUI_DEFAULT_PRICE = env_default_price("FLEETUI_DEFAULT_PRICE")
# USD per million tokens by model, for traces that recorded tokens but no cost: "claude-sonnet-4-5=3,15;gpt-4.1=2,8".
# A call's model matches the longest name it starts with; the import prices each LLM call, then the default above.
FLEETUI_MODEL_PRICES = env_model_prices("FLEETUI_MODEL_PRICES")
RERUN_CONCURRENCY = envint("FLEETUI_RERUN_CONCURRENCY", 8)
# A canary rerun pauses when one new failure cluster takes more than this share of it, 0 to 1 (docs/canary.md).
FLEETUI_CANARY_MAX_NEW_CLUSTER_SHARE = envfloat("FLEETUI_CANARY_MAX_NEW_CLUSTER_SHARE", 0.3)
# Infrastructure failures' automatic reruns per repository and migration (0: off), and the first one's wait (s).
# On by default in the demo, whose runner is always there; elsewhere once a runner is set up for it.
FLEETUI_INFRA_RETRY = envint("FLEETUI_INFRA_RETRY", 1 if DEMO_MODE and not TESTING else 0)
FLEETUI_INFRA_RETRY_BACKOFF = envint("FLEETUI_INFRA_RETRY_BACKOFF", 60)

# --- Product settings ---------------------------------------------------------------
API_PAGE_SIZE = envint("FLEETUI_API_PAGE_SIZE", 50)
API_MAX_PAGE_SIZE = envint("FLEETUI_API_MAX_PAGE_SIZE", 500)
# A deeper `offset` is refused with a 400: the databases' integers end at 2^63, and a client this deep should filter.
API_MAX_OFFSET = 1_000_000_000
PAGE_SIZE = envint("FLEETUI_PAGE_SIZE", 50)
# An OpenAI-compatible endpoint drafts prompt additions on a cluster's page; blank base URL or model: no button.
FLEETUI_LLM_BASE_URL = os.environ.get("FLEETUI_LLM_BASE_URL", "")
FLEETUI_LLM_MODEL = os.environ.get("FLEETUI_LLM_MODEL", "")
FLEETUI_LLM_API_KEY = os.environ.get("FLEETUI_LLM_API_KEY", "")
FLEETUI_LLM_TIMEOUT = envint("FLEETUI_LLM_TIMEOUT", 20)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "alembic": {"level": "WARNING"},
        "mlflow": {"level": "WARNING"},
    },
}
