from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core.apis import HealthApi, not_found

urlpatterns = [
    path("healthz", HealthApi.as_view(), name="healthz"),
    path("api/v1/", include("apps.accounts.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path(f"{settings.ADMIN_URL}", admin.site.urls),
    # Unknown API paths answer JSON even with DEBUG on (Django's debug 404 page is HTML).
    re_path(r"^api/", not_found),
]

handler404 = "apps.core.apis.not_found"
handler500 = "apps.core.apis.internal_error"
