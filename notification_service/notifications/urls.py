from django.urls import path

from . import apis

app_name = "notifications"

urlpatterns = [
    path("", apis.NotificationListApi.as_view(), name="list"),
    path("<str:notification_id>/read/", apis.NotificationReadApi.as_view(), name="read"),
]
