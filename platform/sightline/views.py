"""The single-page application shell: the built frontend's index.html, with a CSRF cookie."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import ensure_csrf_cookie


@ensure_csrf_cookie
def spa_index(request: HttpRequest) -> HttpResponse:
    index = settings.FRONTEND_DIST_DIR / "index.html"
    if not index.is_file():
        return HttpResponse(
            "The browser UI has not been built yet: run `make frontend` (or `make run`).",
            status=503,
            content_type="text/plain",
        )
    return HttpResponse(index.read_text(encoding="utf-8"))
