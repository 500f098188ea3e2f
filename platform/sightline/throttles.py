"""Rate limits for password guessing and uploads, counted in the shared (default) cache.

Both classes sit in ``DEFAULT_THROTTLE_CLASSES`` and act only on their own endpoints, chosen by
URL name, so a view needs no change to be covered and other endpoints are never throttled.

- ``LoginThrottle`` (rate ``login``, default 10/min): ``POST auth/login/`` and ``auth/token/``,
  keyed by client address. Every attempt counts, successful ones too: counting only failures
  would need the outcome before the view runs, and ten logins a minute from one address is
  already more than a person makes.
- ``UploadThrottle`` (rate ``upload``, default 120/min): image uploads and imports, keyed by user.

A refused request gets 429 ``throttled`` in the API's error shape with a ``Retry-After`` header.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.throttling import SimpleRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports this module through api_settings
    from rest_framework.request import Request
    from rest_framework.views import APIView


class _EndpointThrottle(SimpleRateThrottle):
    """Throttles ``methods`` of the URL names in ``url_names``; lets everything else through."""

    url_names: frozenset[str] = frozenset()
    methods: frozenset[str] = frozenset({"POST"})

    def applies_to(self, request: Request) -> bool:
        match = getattr(request._request, "resolver_match", None)
        return bool(match and match.url_name in self.url_names and request.method in self.methods)

    def allow_request(self, request: Request, view: APIView) -> bool:
        if not self.applies_to(request):
            return True
        return super().allow_request(request, view)


class LoginThrottle(_EndpointThrottle):
    scope = "login"
    url_names = frozenset({"auth-login", "auth-token"})

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UploadThrottle(_EndpointThrottle):
    scope = "upload"
    url_names = frozenset({"image-list", "import"})

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None  # refused by the permission check anyway
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
