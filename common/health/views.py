from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .checks import run_checks


@never_cache
@require_GET
def live(request):
    """The process is up and serving requests; nothing else is checked."""
    return JsonResponse({"status": "ok", "checks": {}})


@never_cache
@require_GET
def ready(request):
    """200 when the database, broker and cache all answer; 503 naming the ones that do not."""
    checks = run_checks()
    failing = sorted(name for name, result in checks.items() if result != "ok")
    if failing:
        return JsonResponse({"status": "unavailable", "failing": failing, "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})
