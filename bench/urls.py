"""The app's URLs plus two bench-only views, served through the same middleware and gunicorn:

- /bench/ceiling/: a bare Django view (no DRF, no database) answering a JSON body of ``?bytes=N``
  bytes (default 7400, at most 1 MB): the framework's ceiling for a response of that size.
- /bench/floor/ (POST): the least an authenticated API write can cost on this stack (issue 14's
  checkout floor, bench/checkout.py ``--floor``): DRF with the project's JWT authentication,
  parser and renderer, and ``?statements=N`` statements (at most 100) compiled by hand, run in
  one transaction, as a view that did no ORM or serializer work at all would run them.
"""

from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import path
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

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


MAX_FLOOR_STATEMENTS = 100
FLOOR_STATEMENT = "SELECT CAST(%s AS INTEGER)"


class FloorApi(APIView):
    def post(self, request):
        try:
            statements = int(request.query_params.get("statements", "0"))
        except ValueError:
            statements = -1
        if not 0 <= statements <= MAX_FLOOR_STATEMENTS:
            raise ValidationError({"statements": [f"A whole number from 0 to {MAX_FLOOR_STATEMENTS}."]})
        with transaction.atomic(), connection.cursor() as cursor:
            for number in range(statements):
                cursor.execute(FLOOR_STATEMENT, [number])
                cursor.fetchone()
        # Reading request.data parses the body, as a real view's input serializer does.
        return Response({"statements": statements, "body": type(request.data).__name__}, status=status.HTTP_201_CREATED)


urlpatterns = [path("bench/ceiling/", ceiling), path("bench/floor/", FloorApi.as_view()), *app_urlpatterns]
