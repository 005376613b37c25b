from django.urls import path

from . import apis

app_name = "bookings"

urlpatterns = [
    path("", apis.BookingListCreateApi.as_view(), name="booking-list"),
    path("showtimes/<uuid:showtime_id>/seats/", apis.SeatMapApi.as_view(), name="showtime-seats"),
    path("<uuid:booking_id>/", apis.BookingDetailApi.as_view(), name="booking-detail"),
    path("<uuid:booking_id>/cancel/", apis.BookingCancelApi.as_view(), name="booking-cancel"),
]
