"""The caller's notifications (contract: Notification API)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .serializers import NotificationSerializer


class NotificationListApi(generics.ListAPIView):
    """``GET /api/notifications/``: the caller's notifications, newest first."""

    serializer_class = NotificationSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.notification_list_for_user(user_id=self.request.user.id)


class NotificationReadApi(APIView):
    """``POST /api/notifications/<id>/read/``: mark as read (idempotent); another user's → 404."""

    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request: Request, notification_id: str) -> Response:
        notification = selectors.notification_get_for_user(user_id=request.user.id, notification_id=notification_id)
        if notification is None:
            raise NotFound("No notification with this id.")
        notification = services.notification_mark_read(notification=notification)
        return Response(NotificationSerializer(notification).data, status=status.HTTP_200_OK)
