"""The seat-layout editor of the admin: a grid of seats, a category per seat, gaps as empty cells.

The layout JSON stays the form's value (in a collapsible raw editor, usable without JavaScript);
the grid edits it in place. Row labels run A, B, … from the front and seats are numbered left to
right, skipping gaps, whenever the grid writes the JSON.
"""

from __future__ import annotations

import json

from django import forms

from .layouts import MAX_SEATS, SeatCategory


class SeatLayoutWidget(forms.Textarea):
    template_name = "cinemas/widgets/seat_layout.html"

    def __init__(self, attrs=None):
        super().__init__(attrs={"rows": 8, "cols": 80, **(attrs or {})})

    def format_value(self, value):
        if value is None or value == "":
            return "[]"
        if isinstance(value, str):
            return value
        return json.dumps(value)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["categories"] = list(SeatCategory.ALL)
        context["widget"]["max_seats"] = MAX_SEATS
        return context
