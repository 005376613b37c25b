"""Django's own answers for what never reaches a DRF view, in DRF's shape under ``/api/``.

A URL that matches no route (``/api/bookings/not-an-id/``), a request Django refuses before any
view (an unknown ``Host``) or an error outside DRF's exception handler would otherwise get Django's
HTML page; a client of the API gets ``{"detail": …}``. The
admin and everything else keep Django's pages. Each service's root URLconf names these.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "A server error occurred."}, status=500)
    return defaults.server_error(request)
