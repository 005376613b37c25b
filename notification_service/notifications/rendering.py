"""What an e-mail says: template context, plain words for codes, templates, the inline QR code.

Templates live in ``templates/notifications/``: for each kind ``<kind>_subject.txt``,
``<kind>.txt`` and ``<kind>.html`` (which extends ``base.html``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
import zoneinfo
from decimal import Decimal
from email.mime.image import MIMEImage
from typing import Any

import qrcode
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

QR_CONTENT_ID = "ticket-qr"
# The kinds whose e-mail carries the ticket's QR code (context key "reference").
KINDS_WITH_QR = frozenset({"booking_confirmed", "showtime_reminder"})

CANCEL_REASON_TEXT = {
    "user_cancelled": "You cancelled this booking.",
    "payment_failed": "The payment for this booking did not go through, so the seats were released.",
    "expired": "The booking was not paid within the time the seats were held for you, so they were released.",
    "showtime_cancelled": "The cinema cancelled this showtime.",
}
PAYMENT_FAILURE_TEXT = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card was declined for insufficient funds.",
    "invalid_payment_method": "The payment method was not accepted.",
    "expired_card": "Your card has expired.",
    "processing_error": "The payment provider could not process the payment.",
}
DEFAULT_PAYMENT_FAILURE_TEXT = "The payment could not be completed."


def booking_reference(booking_id: uuid.UUID | str, reference: str | None = None) -> str:
    """The booking's reference from the event, else the first 8 hex digits of its id."""
    if reference:
        return reference
    return uuid.UUID(str(booking_id)).hex[:8].upper()


def cinema_zone(name: str | None) -> zoneinfo.ZoneInfo:
    """The cinema's time zone; UTC when the event does not say or names an unknown zone."""
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return zoneinfo.ZoneInfo("UTC")


def local_time_text(starts_at: dt.datetime | None, timezone_name: str | None) -> str:
    """``Saturday 5 December 2026, 19:30 (Europe/Berlin)`` in the cinema's time zone."""
    if starts_at is None:
        return ""
    zone = cinema_zone(timezone_name)
    local = starts_at.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} ({zone.key})"


def money_text(amount: Decimal | str | None, currency: str) -> str:
    if amount is None or amount == "":
        return ""
    return f"{Decimal(str(amount)):.2f} {currency}".strip()


def ticket_context(ticket) -> dict[str, Any]:
    """The booking details every booking-related e-mail can show (JSON-safe)."""
    seats = list(ticket.seats or [])
    return {
        "booking_id": str(ticket.booking_id),
        "reference": booking_reference(ticket.booking_id, ticket.reference),
        "movie_title": ticket.movie_title,
        "cinema_name": ticket.cinema_name,
        "screen_name": ticket.screen_name,
        "starts_at": ticket.starts_at.isoformat() if ticket.starts_at else "",
        "starts_at_local": local_time_text(ticket.starts_at, ticket.cinema_timezone),
        "timezone": cinema_zone(ticket.cinema_timezone).key,
        "seats": seats,
        "seats_text": ", ".join(seats),
        "amount_text": money_text(ticket.amount, ticket.currency),
    }


def render(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """``(subject, text, html)`` of a notification of ``kind``."""
    full_context = {**context, "qr_content_id": QR_CONTENT_ID if kind in KINDS_WITH_QR else ""}
    subject = render_to_string(f"notifications/{kind}_subject.txt", full_context)
    subject = " ".join(subject.split())
    text = render_to_string(f"notifications/{kind}.txt", full_context)
    # Optional lines left out by {% if %} must not leave gaps: at most one blank line in a row.
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    html = render_to_string(f"notifications/{kind}.html", full_context)
    return subject, text, html


def qr_code_png(data: str) -> bytes:
    image = qrcode.make(data, box_size=8, border=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def build_message(notification) -> EmailMultiAlternatives:
    """The e-mail: plain text, HTML alternative and, for a ticket, the QR code as a related part."""
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        headers={"X-Notification-Id": str(notification.id)},
    )
    message.attach_alternative(notification.body_html, "text/html")
    reference = notification.context.get("reference")
    if notification.kind in KINDS_WITH_QR and reference:
        # multipart/related: the HTML shows the image with <img src="cid:ticket-qr">.
        message.mixed_subtype = "related"
        image = MIMEImage(qr_code_png(reference), "png")
        image.add_header("Content-ID", f"<{QR_CONTENT_ID}>")
        image.add_header("Content-Disposition", "inline", filename=f"ticket-{reference}.png")
        message.attach(image)
    return message
