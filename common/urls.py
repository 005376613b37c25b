"""The URL layout every service shares (contract: "Paths every service serves")."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from common.config.services import Service, get_service
from common.health import views as health_views
from common.observability.metrics import metrics_view

# Django reads the error handlers from the root URLconf only, so each service's urls.py takes them:
# ``handler400, handler404, handler500 = ERROR_HANDLERS`` (JSON under /api/, common/api/errors.py).
ERROR_HANDLERS = ("common.api.errors.bad_request", "common.api.errors.not_found", "common.api.errors.server_error")


def service_urlpatterns(service_name: str | Service, api_urls) -> list:
    """``/api/<prefix>/…``, its schema and docs, ``/admin/<prefix>/``, health and metrics."""
    service = service_name if isinstance(service_name, Service) else get_service(service_name)
    prefix = service.prefix
    return [
        path(f"api/{prefix}/schema/", SpectacularAPIView.as_view(), name="schema"),
        path(f"api/{prefix}/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
        path(f"api/{prefix}/", include(api_urls)),
        path(f"admin/{prefix}/", admin.site.urls),
        path("health/live/", health_views.live, name="health-live"),
        path("health/ready/", health_views.ready, name="health-ready"),
        path("metrics", metrics_view, name="prometheus-django-metrics"),
    ]
