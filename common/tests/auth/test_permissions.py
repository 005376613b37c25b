import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from common.auth.permissions import IsStaff, IsStaffOrReadOnly
from common.auth.testing import make_access_token

pytestmark = pytest.mark.django_db


class StaffOnly(APIView):
    permission_classes = [IsStaff]

    def get(self, request):
        return Response({"ok": True})


class StaffWrites(APIView):
    permission_classes = [IsStaffOrReadOnly]

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"ok": True})


def call(view, method, *, is_staff=None):
    headers = {} if is_staff is None else {"HTTP_AUTHORIZATION": f"Bearer {make_access_token(is_staff=is_staff)}"}
    request = getattr(APIRequestFactory(), method)("/", **headers)
    return view.as_view()(request)


@pytest.mark.parametrize(
    ("view", "method", "is_staff", "expected"),
    [
        (StaffOnly, "get", True, 200),
        (StaffOnly, "get", False, 403),
        (StaffOnly, "get", None, 401),
        (StaffWrites, "get", False, 200),
        (StaffWrites, "get", None, 200),
        (StaffWrites, "post", True, 200),
        (StaffWrites, "post", False, 403),
        (StaffWrites, "post", None, 401),
    ],
)
def test_staff_permissions(view, method, is_staff, expected):
    response = call(view, method, is_staff=is_staff)

    assert response.status_code == expected


def test_a_non_staff_caller_is_told_staff_only():
    response = call(StaffOnly, "get", is_staff=False)

    assert response.data == {"detail": "Staff only."}
