from common.urls import ERROR_HANDLERS, service_urlpatterns

urlpatterns = service_urlpatterns("payment", "payment_service.payments.urls")

handler400, handler404, handler500 = ERROR_HANDLERS
