from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsStaff(BasePermission):
    """Only callers whose token says ``is_staff``."""

    message = "Staff only."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and getattr(request.user, "is_staff", False))


class IsStaffOrReadOnly(BasePermission):
    """Anyone may read; only staff may write."""

    message = "Staff only."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return IsStaff().has_permission(request, view)
