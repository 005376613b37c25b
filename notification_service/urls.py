from common.urls import service_urlpatterns

urlpatterns = service_urlpatterns("notification", "notification_service.notifications.urls")
