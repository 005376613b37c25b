"""The settings every service shares, built for one service.

A service's ``settings/base.py`` does::

    globals().update(build_settings("booking", apps=["booking_service.bookings"]))

and then adds or overrides only what is its own. Everything here reads the environment, so the
same code runs on the embedded default, on one host against real servers, and in containers.
"""

from __future__ import annotations

from typing import Any

from .cache import cache_config
from .celery import celery_settings, events_options
from .database import database_config
from .env import env_bool, env_int, env_list, env_str
from .paths import var_dir
from .services import Service, get_service

# Development-only key; production.py refuses to start with it.
DEV_SECRET_KEY = "django-insecure-dev-only-key-do-not-use-in-production"  # noqa: S105

_DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
_THIRD_PARTY_APPS = [
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_prometheus",
]
_COMMON_APPS = [
    "common.events",
]


def _prometheus_engine(engine: str) -> str:
    # django-prometheus wraps the backend to count queries and time them per database.
    return engine.replace("django.db.backends.", "django_prometheus.db.backends.")


def build_settings(service_name: str | Service, *, apps: list[str]) -> dict[str, Any]:
    service = service_name if isinstance(service_name, Service) else get_service(service_name)
    database = database_config(service.name)
    database["ENGINE"] = _prometheus_engine(database["ENGINE"])
    service_var = var_dir() / service.name
    (service_var / "static").mkdir(parents=True, exist_ok=True)

    settings: dict[str, Any] = {
        "SERVICE_NAME": service.name,
        "SECRET_KEY": env_str("DJANGO_SECRET_KEY", DEV_SECRET_KEY),
        "DEBUG": env_bool("DJANGO_DEBUG", default=False),
        "ALLOWED_HOSTS": allowed_hosts(service.name),
        "CSRF_TRUSTED_ORIGINS": env_list("DJANGO_CSRF_TRUSTED_ORIGINS", []),
        "INSTALLED_APPS": _DJANGO_APPS + _THIRD_PARTY_APPS + _COMMON_APPS + apps,
        "MIDDLEWARE": [
            "django_prometheus.middleware.PrometheusBeforeMiddleware",
            "common.observability.middleware.RequestIdMiddleware",
            "django.middleware.security.SecurityMiddleware",
            "whitenoise.middleware.WhiteNoiseMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            "django_prometheus.middleware.PrometheusAfterMiddleware",
        ],
        "ROOT_URLCONF": f"{service.package}.urls",
        "WSGI_APPLICATION": f"{service.package}.wsgi.application",
        "DATABASES": {"default": database},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "CACHES": cache_config(service.name),
        "TEMPLATES": [
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
            }
        ],
        "AUTH_PASSWORD_VALIDATORS": [
            {"NAME": f"django.contrib.auth.password_validation.{name}"}
            for name in (
                "UserAttributeSimilarityValidator",
                "MinimumLengthValidator",
                "CommonPasswordValidator",
                "NumericPasswordValidator",
            )
        ],
        "LANGUAGE_CODE": "en-us",
        "TIME_ZONE": "UTC",
        "USE_I18N": True,
        "USE_TZ": True,
        # Each service serves its own static files under its own prefix, so the gateway
        # routes /static/<prefix>/ by prefix alone.
        "STATIC_URL": f"/static/{service.prefix}/",
        "STATIC_ROOT": str(service_var / "static"),
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
        },
        "WHITENOISE_USE_FINDERS": True,
        # Five admins behind one gateway host: distinct cookie names keep their sessions apart.
        "SESSION_COOKIE_NAME": f"{service.name}_sessionid",
        # Sessions are the admins' only (the APIs take tokens), and a staff member revoked in auth
        # keeps a session already open: a working day, not Django's two weeks.
        "SESSION_COOKIE_AGE": env_int("ADMIN_SESSION_SECONDS", 8 * 3600),
        "CSRF_COOKIE_NAME": f"{service.name}_csrftoken",
        "LOGIN_URL": f"/admin/{service.prefix}/login/",
        # Staff sign in to every admin with their auth-service account (common/auth/admin_sso.py).
        "AUTHENTICATION_BACKENDS": ["common.auth.admin_sso.AuthServiceBackend"],
        "DATA_UPLOAD_MAX_MEMORY_SIZE": 1024 * 1024,
        "REST_FRAMEWORK": {
            "DEFAULT_RENDERER_CLASSES": [
                "rest_framework.renderers.JSONRenderer",
                "rest_framework.renderers.BrowsableAPIRenderer",
            ],
            "DEFAULT_PARSER_CLASSES": ["common.api.parsers.JSONParser"],
            "DEFAULT_AUTHENTICATION_CLASSES": ["common.auth.authentication.StatelessJWTAuthentication"],
            "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
            "DEFAULT_PAGINATION_CLASS": "common.api.pagination.StandardPagination",
            "PAGE_SIZE": 20,
            "DEFAULT_FILTER_BACKENDS": [
                "django_filters.rest_framework.DjangoFilterBackend",
                "common.api.filters.SearchFilter",
                "common.api.filters.OrderingFilter",
            ],
            "DEFAULT_SCHEMA_CLASS": "common.api.schema.AutoSchema",
            "EXCEPTION_HANDLER": "common.api.exceptions.exception_handler",
            "TEST_REQUEST_DEFAULT_FORMAT": "json",
        },
        "SPECTACULAR_SETTINGS": {
            "TITLE": f"{service.name.capitalize()} service API",
            "VERSION": "1.0.0",
            "SCHEMA_PATH_PREFIX": f"/api/{service.prefix}",
            "SERVE_INCLUDE_SCHEMA": False,
            "COMPONENT_SPLIT_REQUEST": True,
        },
        "LOGGING": logging_config(service.name),
        "COMMON": {
            "SERVICE": service.name,
            "HEALTH_CHECK_TIMEOUT": float(env_int("HEALTH_CHECK_TIMEOUT_MS", 1000)) / 1000,
            # PostgreSQL's statement_timeout in Celery workers (common.celery_app); 0 turns it off.
            "WORKER_STATEMENT_TIMEOUT": float(env_int("WORKER_STATEMENT_TIMEOUT_MS", 60_000)) / 1000,
            # A Celery worker with no web server beside it (a container) serves /metrics here; 0: none.
            "WORKER_METRICS_PORT": env_int("WORKER_METRICS_PORT", 0),
            "EVENTS": events_options(service.name),
        },
    }
    settings.update(celery_settings(service.name))
    return settings


def allowed_hosts(service_name: str) -> list[str]:
    """``DJANGO_ALLOWED_HOSTS``, and the pod's own address where Kubernetes gives it (``POD_IP``).

    A cluster's Prometheus scrapes each pod at its address, so ``/metrics`` is asked for with
    ``Host: <pod IP>:<port>``, which no list of names can hold ahead of time.
    """
    hosts = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", service_name])
    pod_ip = env_str("POD_IP")
    if pod_ip:
        hosts.append(f"[{pod_ip}]" if ":" in pod_ip else pod_ip)
    return hosts


def logging_config(service_name: str) -> dict[str, Any]:
    level = env_str("LOG_LEVEL", "INFO")
    formatter = "json" if env_str("LOG_FORMAT", "json") == "json" else "plain"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "common.observability.logging.ContextFilter", "service": service_name},
        },
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
            "plain": {
                "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            },
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": formatter, "filters": ["context"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            "celery": {"level": level},
        },
    }
