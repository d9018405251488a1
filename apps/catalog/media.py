"""Serving uploaded images from local storage (MEDIA_ROOT) when no S3 bucket is configured.

Only the formats the catalog writes are served, each with its exact Content-Type, ``nosniff`` and a
long cache lifetime (names are random and never reused, so a URL's content never changes).
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.views.decorators.http import require_safe
from django.views.static import serve

CONTENT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}
CACHE_CONTROL = "public, max-age=31536000, immutable"


@require_safe
def media_serve(request, path: str):
    """GET/HEAD one stored image; 404 for anything else (other extensions, directories, ``..``)."""
    extension = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if extension not in CONTENT_TYPES:
        raise Http404("Not an image.")
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    if response.status_code == 200:
        response["Content-Type"] = CONTENT_TYPES[extension]
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = CACHE_CONTROL
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
