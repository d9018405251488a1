"""Request parsers: DRF's, hardened so that no request body can cause a server error."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering 400 for nesting too deep to decode.

    Python's decoder raises RecursionError (not ValueError) past about a thousand levels, which a
    body well under MAX_JSON_BODY_BYTES reaches ("[" * 100_000); DRF would let it become a 500.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type=media_type, parser_context=parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
