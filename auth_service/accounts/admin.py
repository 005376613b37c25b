"""Users in the auth admin: search, filters, the staff flag, activate/deactivate via services."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.db import transaction

from . import services
from .admin_login import LimitedAdminAuthenticationForm
from .models import User


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class SessionEndingPasswordForm(AdminPasswordChangeForm):
    """A password set by staff ends the user's sessions, as deactivating does.

    Staff reset a password when an account is feared compromised; Django's view saves this form
    and never calls ``save_model``, so a stolen refresh token kept rotating for ever. One
    transaction: a new password whose old sessions survive would be worse than neither.
    """

    def save(self, commit=True):
        if not commit:
            return super().save(commit=False)
        with transaction.atomic():
            user = super().save(commit=True)
            services.user_refresh_tokens_revoke(user=user)
        return user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    change_password_form = SessionEndingPasswordForm
    list_display = ("email", "full_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_active", "is_superuser", "date_joined")
    search_fields = ("email", "full_name", "id")
    ordering = ("-date_joined",)
    readonly_fields = ("id", "date_joined", "last_login", "updated_at")
    actions = ("activate_users", "deactivate_users")
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        (
            "Access",
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "description": "Staff sign in to every service's admin with this account. "
                "Deactivating ends all of the user's sessions (refresh tokens are blacklisted).",
            },
        ),
        ("Dates", {"fields": ("date_joined", "last_login", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.user_admin_saved(user=obj, changed_fields=list(form.changed_data), created=not change)

    @admin.action(description="Activate selected users")
    def activate_users(self, request, queryset):
        users = list(queryset)
        for user in users:
            services.user_set_active(user=user, is_active=True)
        self.message_user(request, f"Activated {len(users)} user(s).", messages.SUCCESS)

    @admin.action(description="Deactivate selected users (ends their sessions)")
    def deactivate_users(self, request, queryset):
        users = list(queryset)
        for user in users:
            services.user_set_active(user=user, is_active=False)
        self.message_user(request, f"Deactivated {len(users)} user(s).", messages.SUCCESS)


# This service's admin checks passwords itself: its sign-in counts failures like POST token/.
admin.site.login_form = LimitedAdminAuthenticationForm
