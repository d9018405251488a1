"""Request-level guards that must answer before a view (or a parser) reads anything."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse


class RequestBodyLimitMiddleware:
    """Answer 413 JSON when the declared body is larger than allowed, before anything reads it.

    Uploads (multipart) get ``MAX_UPLOAD_BODY_BYTES``; every other body ``MAX_JSON_BODY_BYTES``.
    A malformed Content-Length is a 400. Django's WSGI request reads at most Content-Length bytes,
    so a body without the header cannot smuggle more.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
            if length < 0:
                raise ValueError(raw_length)
        except ValueError:
            return JsonResponse({"detail": "Malformed Content-Length header.", "code": "bad_request"}, status=400)
        is_upload = request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data")
        limit = settings.MAX_UPLOAD_BODY_BYTES if is_upload else settings.MAX_JSON_BODY_BYTES
        if length > limit:
            return JsonResponse(
                {"detail": f"Request body is larger than {limit} bytes.", "code": "request_too_large", "limit": limit},
                status=413,
            )
        return self.get_response(request)
