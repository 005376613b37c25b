"""The auth admin's sign-in form, counted against the same failure limits as ``POST token/``.

The admin of the auth service checks passwords itself (ModelBackend), so without this form its
login page would let anyone guess staff passwords without limit. Attempts share the account's and
the address's budget with the API: a guess at one endpoint is a guess at both.
"""

from __future__ import annotations

import logging
import math

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from rest_framework.throttling import BaseThrottle

from . import login_limits

logger = logging.getLogger(__name__)


class LimitedAdminAuthenticationForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": "Too many failed sign-ins. Try again in %(minutes)d minute(s).",
        "limiter_unavailable": "Sign-in is temporarily unavailable.",
    }

    def clean(self):
        email = self.cleaned_data.get("username")
        if not email or not self.cleaned_data.get("password"):
            return super().clean()  # a required field is missing: nothing was guessed
        try:
            reservation = login_limits.reserve_attempt(email=email, address=BaseThrottle().get_ident(self.request))
        except login_limits.LimiterUnavailableError as exc:
            logger.error("login limiter unavailable, refusing admin sign-in: %s", exc)
            unavailable = self.error_messages["limiter_unavailable"]
            raise forms.ValidationError(unavailable, code="limiter_unavailable") from None
        if not reservation.allowed:
            raise forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": math.ceil(reservation.retry_after / 60)},
            )
        try:
            return super().clean()
        finally:
            # The password was right (the account may still be inactive or not staff): not a guess.
            if self.user_cache is not None:
                login_limits.release_attempt(reservation)
