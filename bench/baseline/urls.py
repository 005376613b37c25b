"""Under the services' prefixes, so the baseline gateway routes them like the real requests."""

from django.urls import path

from . import views

urlpatterns = [
    path("api/movies/baseline/floor/", views.floor),
    path("api/bookings/baseline/hold/", views.hold),
]
