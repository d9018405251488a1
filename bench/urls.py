"""The app's URLs plus /bench/ceiling/: a bare Django view (no DRF, no database) answering a JSON
body of ``?bytes=N`` bytes (default 7400, at most 1 MB) through the same middleware and gunicorn:
the framework's ceiling for a response of that size."""

from django.http import HttpResponse
from django.urls import path

from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as app_urlpatterns

DEFAULT_BYTES = 7400
MAX_BYTES = 1024 * 1024
_bodies: dict[int, bytes] = {}


def ceiling(request):
    try:
        size = min(max(int(request.GET.get("bytes", DEFAULT_BYTES)), 16), MAX_BYTES)
    except ValueError:
        size = DEFAULT_BYTES
    body = _bodies.get(size)
    if body is None:
        body = _bodies[size] = b'{"padding":"' + b"x" * (size - 15) + b'"}'
    return HttpResponse(body, content_type="application/json")


urlpatterns = [path("bench/ceiling/", ceiling), *app_urlpatterns]
