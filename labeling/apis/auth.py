"""Login, logout, the current user and API tokens.

The login endpoint checks CSRF exactly as DRF's ``SessionAuthentication`` does for logged-in
users (the browser sends ``X-CSRFToken`` from the ``csrftoken`` cookie), so a third-party page
cannot log a visitor into an account of its choosing. The token endpoint is for scripts and
uses no cookies, so it needs no CSRF check.
"""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.apis.common import validated
from labeling.serializers import (
    CredentialsInput,
    TokenSerializer,
    UserEnvelopeSerializer,
    UserSerializer,
)
from labeling.services.accounts import token_get_or_create
from sightline.errors import ApplicationError
from sightline.schema import errors


def _authenticate(request: Request) -> object:
    data = validated(CredentialsInput, request.data)
    user = authenticate(request._request, username=data["username"], password=data["password"])
    if user is None:
        raise ApplicationError("wrong username or password", code="invalid_credentials")
    return user


class LoginApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(request=CredentialsInput, responses={200: UserEnvelopeSerializer, **errors(429)})
    def post(self, request: Request) -> Response:
        SessionAuthentication().enforce_csrf(request)
        user = _authenticate(request)
        login(request._request, user)
        return Response({"user": UserSerializer(user).data})


class LogoutApi(APIView):
    # Logging out an already anonymous client is harmless and keeps the SPA's logic simple.
    permission_classes = [AllowAny]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


@method_decorator(ensure_csrf_cookie, name="dispatch")
class MeApi(APIView):
    """The current user; also hands the SPA its CSRF cookie (even on the 403)."""

    @extend_schema(responses=UserEnvelopeSerializer)
    def get(self, request: Request) -> Response:
        return Response({"user": UserSerializer(request.user).data})


class TokenApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=CredentialsInput, responses={200: TokenSerializer, **errors(429)})
    def post(self, request: Request) -> Response:
        token = token_get_or_create(user=_authenticate(request))
        return Response({"token": token.key})
