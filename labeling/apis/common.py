"""Pieces shared by the labeling views: pagination, binary responses, the PNG body parser."""

from __future__ import annotations

from typing import IO, Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sightline.errors import ApplicationError
from sightline.pagination import Pagination, page_of  # noqa: F401 (views import it from here)


def paginated(
    request: Request, view: APIView, queryset: QuerySet, serializer: type[serializers.Serializer]
) -> Response:
    """One page of ``queryset`` as ``{"count", "next", "previous", "results"}``."""
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


BINARY_PNG = {(200, "image/png"): OpenApiTypes.BINARY}


def validated(serializer: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """Validated input, or a 400 in the API's error shape."""
    instance = serializer(data=data)
    instance.is_valid(raise_exception=True)
    return dict(instance.validated_data)


class FirstRendererNegotiation(BaseContentNegotiation):
    """For views that answer with files: errors are JSON whatever ``Accept`` says.

    It also keeps DRF from reading the ``format`` query parameter (``?format=rle`` belongs to
    the mask endpoint, not to renderer selection).
    """

    def select_parser(self, request: Request, parsers: list[BaseParser]) -> BaseParser | None:
        for parser in parsers:
            if request.content_type.split(";")[0].strip() == parser.media_type:
                return parser
        return None

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


class PNGParser(BaseParser):
    """A raw ``image/png`` request body, as bytes (bounded by DATA_UPLOAD_MAX_MEMORY_SIZE)."""

    media_type = "image/png"

    def parse(
        self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Any = None
    ) -> bytes:
        if stream is None:
            return b""
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        data = stream.read(limit + 1)
        if len(data) > limit:
            raise ParseError(f"the PNG body is larger than {limit} bytes")
        return data


def png_response(data: bytes, *, cache_seconds: int = 0) -> HttpResponse:
    """A PNG answer; renditions of one image id never change, so they may be cached privately."""
    response = HttpResponse(bytes(data), content_type="image/png")
    if cache_seconds:
        response["Cache-Control"] = f"private, max-age={cache_seconds}"
    return response


def file_response(handle: IO[bytes], *, content_type: str, filename: str) -> FileResponse:
    """Stream a stored file as a download."""
    return FileResponse(handle, content_type=content_type, as_attachment=True, filename=filename)


def parse_if_match(header: str | None) -> int | None:
    """The version in an ``If-Match`` header (``"3"``, ``3`` or ``W/"3"``); None when absent."""
    if header is None or not header.strip():
        return None
    value = header.strip().removeprefix("W/").strip('"').strip()
    if not value.isdigit():
        raise ApplicationError(
            f"If-Match must be a prompt version number, not {header!r}", code="invalid"
        )
    return int(value)
