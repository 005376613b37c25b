from common.urls import service_urlpatterns

urlpatterns = service_urlpatterns("payment", "payment_service.payments.urls")
