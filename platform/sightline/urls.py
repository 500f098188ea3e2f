from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from sightline import health, metrics
from sightline.views import spa_index

# Uncaught errors outside DRF views (middleware, plain views) answer JSON too; a database or
# Redis outage is a 503 with Retry-After (sightline.errors).
handler500 = "sightline.errors.server_error"
handler404 = "sightline.errors.page_not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health.live, name="health"),
    path("health/ready/", health.ready, name="health-ready"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("labeling.urls")),
    path("api/v1/", include("modeling.urls")),
    re_path(r"^(?!api/|admin/|static/|media/|health/|metrics$).*$", spa_index, name="spa"),
]
