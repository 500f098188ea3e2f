from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from sightline.views import spa_index

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("labeling.urls")),
    path("api/v1/", include("modeling.urls")),
    re_path(r"^(?!api/|admin/|static/|media/).*$", spa_index, name="spa"),
]
