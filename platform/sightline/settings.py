"""Sightline settings, read from the environment only (see ``.env.example`` and the README).

A ``.env`` file at the repository root is read if present; variables already set in the process
environment win. Importing this module creates no files and no keys.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from sightline.env import env_bool, env_int, env_list, env_path, env_str
from sightline.logging import logging_config

BASE_DIR = Path(__file__).resolve().parents[2]


def _read_dotenv(path: Path) -> None:
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        os.environ.setdefault(key.strip(), value.strip().strip("'\""))


_read_dotenv(Path(os.environ.get("SIGHTLINE_ENV_FILE", BASE_DIR / ".env")))

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off")
    SECRET_KEY = "insecure-development-key-used-only-with-DJANGO_DEBUG-on"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

DATA_DIR = env_path("SIGHTLINE_DATA_DIR", Path("var"), base=BASE_DIR)
MEDIA_ROOT = env_path("DJANGO_MEDIA_ROOT", DATA_DIR / "media", base=BASE_DIR)
MEDIA_URL = "/media/"
FRONTEND_DIST_DIR = BASE_DIR / "frontend" / "dist"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "labeling",
    "modeling",
]

MIDDLEWARE = [
    # Outermost, so its latency and request log cover every other middleware.
    "sightline.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sightline.urls"
WSGI_APPLICATION = "sightline.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# Persistent connections are checked before a request reuses them, so one that a database
# restart broke is replaced instead of failing the request (CONN_HEALTH_CHECKS).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'sightline.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", True),
    )
}
# The hot reads' fixed statements are prepared on the PostgreSQL server (sightline.db); off behind
# a transaction-mode PgBouncer older than 1.21.
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [("app", FRONTEND_DIST_DIR)] if FRONTEND_DIST_DIR.is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Media and artifacts go through Django's storage API, so several workers on several machines
# can share an S3-compatible store (django-storages) set by environment, e.g.
# DJANGO_STORAGE_BACKEND=storages.backends.s3.S3Storage and
# DJANGO_STORAGE_OPTIONS={"bucket_name": "sightline", "endpoint_url": "http://minio:9000"}.
if env_str("DJANGO_STORAGE_BACKEND"):
    try:
        _storage_options = json.loads(env_str("DJANGO_STORAGE_OPTIONS") or "{}")
    except ValueError as exc:
        raise ImproperlyConfigured(f"DJANGO_STORAGE_OPTIONS is not JSON: {exc}") from exc
    if not isinstance(_storage_options, dict):
        raise ImproperlyConfigured("DJANGO_STORAGE_OPTIONS must be a JSON object")
    STORAGES["default"] = {
        "BACKEND": env_str("DJANGO_STORAGE_BACKEND"),
        "OPTIONS": _storage_options,
    }
WHITENOISE_USE_FINDERS = True

# Upload and decoding limits: explicit, so hostile input is refused before it is decoded.
SIGHTLINE_MAX_UPLOAD_BYTES = env_int("SIGHTLINE_MAX_UPLOAD_BYTES", 256 * 1024 * 1024, minimum=1)
SIGHTLINE_MAX_IMAGE_PIXELS = env_int("SIGHTLINE_MAX_IMAGE_PIXELS", 64 * 1024 * 1024, minimum=1)
SIGHTLINE_MAX_ARCHIVE_MEMBERS = env_int("SIGHTLINE_MAX_ARCHIVE_MEMBERS", 100_000, minimum=1)
SIGHTLINE_MAX_ARCHIVE_BYTES = env_int("SIGHTLINE_MAX_ARCHIVE_BYTES", 4 * 1024**3, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", 32 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("DJANGO_DATA_UPLOAD_MAX_NUMBER_FILES", 1000, minimum=1)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # DRF's TokenAuthentication with the token's user cached (one query less per request).
        "labeling.authentication.CachedTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's two, the JSON one also sending pre-rendered JSON (cached pages) as it is.
    "DEFAULT_RENDERER_CLASSES": [
        "sightline.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "sightline.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "sightline.schema.AutoSchema",
    "EXCEPTION_HANDLER": "sightline.errors.exception_handler",
    # Each class acts only on its own endpoints (sightline.throttles); counts live in the default
    # cache, which is Redis (CACHE_URL) in production and so shared by every web process.
    "DEFAULT_THROTTLE_CLASSES": [
        "sightline.throttles.LoginThrottle",
        "sightline.throttles.UploadThrottle",
    ],
    # Client address for throttling: X-Forwarded-For's entry added by our own proxies only.
    "NUM_PROXIES": env_int(
        "DJANGO_NUM_PROXIES", 1 if env_bool("DJANGO_BEHIND_PROXY") else 0, minimum=0
    ),
    "DEFAULT_THROTTLE_RATES": {
        "login": env_str("SIGHTLINE_LOGIN_RATE") or "10/min",
        "upload": env_str("SIGHTLINE_UPLOAD_RATE") or "120/min",
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sightline API",
    "DESCRIPTION": (
        "Attention prompts, explanation-guided training and review of image classifiers."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets share the field name "kind"; name their enums after their classes.
    "ENUM_NAME_OVERRIDES": {
        "JobKindEnum": "modeling.models.JobKind",
        "ConditionKindEnum": "labeling.models.ConditionKind",
    },
}

# Jobs (modeling app): time limits, heartbeats, retries, interactive prediction.
SIGHTLINE_JOB_SOFT_TIME_LIMIT = env_int("SIGHTLINE_JOB_SOFT_TIME_LIMIT", 6 * 3600, minimum=1)
SIGHTLINE_JOB_TIME_LIMIT = env_int(
    "SIGHTLINE_JOB_TIME_LIMIT", SIGHTLINE_JOB_SOFT_TIME_LIMIT + 600, minimum=1
)
SIGHTLINE_JOB_HEARTBEAT_SECONDS = env_int("SIGHTLINE_JOB_HEARTBEAT_SECONDS", 5, minimum=1)
SIGHTLINE_JOB_STALE_SECONDS = env_int("SIGHTLINE_JOB_STALE_SECONDS", 60, minimum=2)
SIGHTLINE_JOB_MAX_ATTEMPTS = env_int("SIGHTLINE_JOB_MAX_ATTEMPTS", 3, minimum=1)
# A queued job sent this long ago and still not started is sent again (the broker, Redis without
# persistence, may have lost the message); the wait doubles with each send, up to 16 times.
SIGHTLINE_JOB_RESEND_SECONDS = env_int("SIGHTLINE_JOB_RESEND_SECONDS", 300, minimum=1)
# How long a running job's progress, metric and checkpoint writes retry while the database is
# unreachable (a restart) before the job gives up.
SIGHTLINE_JOB_DB_RETRY_SECONDS = env_int("SIGHTLINE_JOB_DB_RETRY_SECONDS", 60, minimum=0)
SIGHTLINE_JOB_QUEUE = env_str("SIGHTLINE_JOB_QUEUE") or "gpu"
SIGHTLINE_PREDICT_QUEUE = env_str("SIGHTLINE_PREDICT_QUEUE") or "gpu"
SIGHTLINE_PREDICT_WAIT_MS = env_int("SIGHTLINE_PREDICT_WAIT_MS", 5000, minimum=0)
SIGHTLINE_PREDICT_MASKS_GPU = env_int("SIGHTLINE_PREDICT_MASKS_GPU", 2000, minimum=1)
SIGHTLINE_PREDICT_MASKS_CPU = env_int("SIGHTLINE_PREDICT_MASKS_CPU", 100, minimum=1)
SIGHTLINE_PREDICT_CACHE_SIZE = env_int("SIGHTLINE_PREDICT_CACHE_SIZE", 4, minimum=1)
SIGHTLINE_RECONCILE_SECONDS = env_int("SIGHTLINE_RECONCILE_SECONDS", 30, minimum=1)
SIGHTLINE_WORKER_PRELOAD = env_bool("SIGHTLINE_WORKER_PRELOAD", True)
# CPU threads torch uses in a worker process (0: torch's default, one per core). On a machine
# shared with other processes, fewer threads avoid oversubscription.
SIGHTLINE_WORKER_TORCH_THREADS = env_int("SIGHTLINE_WORKER_TORCH_THREADS", 0, minimum=0)

# Celery: an embedded filesystem broker by default (no server), Redis in production.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "filesystem://"
BROKER_DIR = DATA_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than the longest job (its hard time limit), so a running job's message is not
        # handed to a second worker; a redelivery that still happens is refused by the job row's
        # heartbeat (modeling.worker.runner).
        "visibility_timeout": env_int(
            "CELERY_VISIBILITY_TIMEOUT", SIGHTLINE_JOB_TIME_LIMIT + 3600, minimum=1
        ),
        # How often unacknowledged messages of dead workers are looked for (kombu's default is
        # every 100 s); tests with short visibility timeouts lower both.
        "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10, minimum=1),
        "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10, minimum=1),
        # A launch never hangs on a broker that is down or unreachable: two connection attempts
        # (see CELERY_TASK_PUBLISH_RETRY_POLICY) fail within about 1.2 s.
        "socket_connect_timeout": 0.5,
        "socket_timeout": 10,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker whose broker restarts keeps reconnecting (back-off up to 30 s) instead of exiting after
# Celery's default 100 attempts: a Redis outage of any length only pauses the workers.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Heavy work goes to the gpu queue: one job at a time per worker process (run one worker per GPU
# with --concurrency 1), nothing prefetched behind a long job, acknowledged only when done, and
# requeued when the worker process dies. Workers are recycled after a number of tasks.
CELERY_TASK_ROUTES = {
    "modeling.tasks.run_job": {"queue": SIGHTLINE_JOB_QUEUE},
    "modeling.tasks.run_prediction": {"queue": SIGHTLINE_PREDICT_QUEUE},
    "modeling.tasks.reconcile_jobs": {"queue": "default"},
}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("CELERY_WORKER_MAX_TASKS_PER_CHILD", 50, minimum=1)
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Publishing a job answers fast when the broker is down: the job stays queued on its row and the
# reconciler sends it when the broker is back.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BEAT_SCHEDULE = {
    "reconcile-jobs": {
        "task": "modeling.tasks.reconcile_jobs",
        "schedule": float(SIGHTLINE_RECONCILE_SECONDS),
        "options": {"expires": float(SIGHTLINE_RECONCILE_SECONDS)},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

CACHES = {
    "default": (
        # Django's Redis backend, sharing one client per pool (sightline.cache).
        {"BACKEND": "sightline.cache.RedisCache", "LOCATION": env_str("CACHE_URL")}
        if env_str("CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", False)
# Probes and scrapers talk plain HTTP to the process from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_PROXY") else None
)

LOG_LEVEL = env_str("SIGHTLINE_LOG_LEVEL") or "INFO"
# Structured JSON logs by default; SIGHTLINE_LOG_FORMAT=plain for a human at a terminal.
LOG_FORMAT = (env_str("SIGHTLINE_LOG_FORMAT") or ("plain" if DEBUG else "json")).lower()
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"SIGHTLINE_LOG_FORMAT={LOG_FORMAT!r} is not json or plain")
LOGGING = logging_config(level=LOG_LEVEL, json_format=LOG_FORMAT == "json")

# Health and metrics (sightline.health, sightline.metrics).
SIGHTLINE_HEALTH_TIMEOUT_MS = env_int("SIGHTLINE_HEALTH_TIMEOUT_MS", 1000, minimum=1)
SIGHTLINE_HEALTH_REQUIRE_WORKERS = env_bool("SIGHTLINE_HEALTH_REQUIRE_WORKERS", True)
SIGHTLINE_METRICS_TOKEN = env_str("SIGHTLINE_METRICS_TOKEN") or ""
