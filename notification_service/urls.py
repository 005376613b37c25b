from common.urls import ERROR_HANDLERS, service_urlpatterns

urlpatterns = service_urlpatterns("notification", "notification_service.notifications.urls")

handler400, handler404, handler500 = ERROR_HANDLERS
