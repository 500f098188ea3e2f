"""One application error type and one JSON error shape for the whole API.

Every error a client sees reads ``{"error": {"code", "message", "detail"}}``; a user never sees a
traceback (unexpected exceptions are logged and answered with a generic 500 body). A dependency
that is down or restarting (PostgreSQL, Redis) is answered with 503 ``service_unavailable`` and
``Retry-After``, inside DRF views by ``exception_handler`` and everywhere else (middleware, plain
Django views) by ``server_error``, the project's ``handler500``: a client retries instead of
reporting a bug.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import redis.exceptions
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from drf_spectacular.utils import inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """An expected failure of a service, with the HTTP status the API answers it with."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        status_code: int = status.HTTP_400_BAD_REQUEST,
        detail: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code
        self.detail = detail


# Failures of a dependency that are expected to pass: a restart, a failover, a full pool.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "A service Sightline depends on is unavailable; retry shortly."
SERVER_ERROR_MESSAGE = "An unexpected error occurred; it has been logged."


def error_body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": detail}}


def _unavailable(exc: BaseException) -> tuple[dict[str, Any], dict[str, str]]:
    """The 503 body and headers; the dependency's message goes to the log only."""
    logger.warning("dependency unavailable: %s: %s", type(exc).__name__, str(exc)[:300])
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return error_body("service_unavailable", UNAVAILABLE_MESSAGE), headers


def server_error(request: HttpRequest) -> JsonResponse:
    """``handler500``: 503 for an unavailable dependency, else the generic 500, both as JSON."""
    exc = sys.exc_info()[1]
    if isinstance(exc, UNAVAILABLE_ERRORS):
        body, headers = _unavailable(exc)
        return JsonResponse(body, status=503, headers=headers)
    return JsonResponse(error_body("server_error", SERVER_ERROR_MESSAGE), status=500)


def page_not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    """``handler404``: a URL that matches no route (``/api/v1/images/-1/``) answers JSON too."""
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, UNAVAILABLE_ERRORS):
        body, headers = _unavailable(exc)
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=headers)
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.detail), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return Response(error_body("invalid", "; ".join(exc.messages), detail), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled error in %s", context.get("view"))
        return Response(
            error_body("server_error", SERVER_ERROR_MESSAGE),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.APIException):
        detail = response.data
        message = detail.get("detail") if isinstance(detail, dict) and "detail" in detail else None
        if message is None:
            message = _summarise(detail)
        code = (
            exc.get_codes() if not isinstance(exc.get_codes(), (dict, list)) else exc.default_code
        )
        response.data = error_body(str(code), str(message), detail if message != detail else None)
    return response


def _summarise(detail: Any) -> str:
    if isinstance(detail, dict):
        parts = [f"{key}: {_summarise(value)}" for key, value in detail.items()]
        return "; ".join(parts)
    if isinstance(detail, list):
        return " ".join(_summarise(item) for item in detail)
    return str(detail)


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer (for the OpenAPI description; see ``error_body``)."""

    error = inline_serializer(
        name="ErrorDetail",
        fields={
            "code": serializers.CharField(),
            "message": serializers.CharField(),
            "detail": serializers.JSONField(allow_null=True),
        },
    )
