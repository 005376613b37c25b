from common.urls import service_urlpatterns

urlpatterns = service_urlpatterns("booking", "booking_service.bookings.urls")
