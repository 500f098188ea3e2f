"""Pagination used by every list endpoint, and the schema of one page."""

from __future__ import annotations

import functools

from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class PageSerializer(serializers.Serializer):
    """Base of the ``page_of`` classes: the schema generator documents their query parameters
    (``page``, ``page_size``) and names their operations ``..._list``."""


@functools.cache
def page_of(serializer: type[serializers.Serializer]) -> type[PageSerializer]:
    """The schema of one page of ``serializer`` items (for the OpenAPI description only)."""
    name = serializer.__name__.removesuffix("Serializer")
    fields = {
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": serializer(many=True),
    }
    return type(f"Paginated{name}List", (PageSerializer,), fields)
