"""DRF's JSON parser, with a body nested too deeply answered 400 as any bad JSON is."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF catches ``ValueError`` only; Python's parser raises ``RecursionError`` on deep nesting.

    A few kilobytes of ``[`` (well under the body limit) were a 500 with a traceback on every
    JSON endpoint, signed in or not.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
