from common.urls import service_urlpatterns

urlpatterns = service_urlpatterns("auth", "auth_service.accounts.urls")
