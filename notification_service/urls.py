from common.urls import service_urlpatterns

urlpatterns = service_urlpatterns("notification", "notification_service.notifications.urls")

# Unrouted /api/ paths and errors outside DRF answer in JSON (common/api/errors.py).
handler400 = "common.api.errors.bad_request"
handler404 = "common.api.errors.not_found"
handler500 = "common.api.errors.server_error"
