"""JSON answers rendered once and sent many times (cached pages).

A cached image-list page used to be kept as data: each hit unpickled 50 rows of dicts (47 us)
and rendered them to JSON again (140 us), together about a sixth of the request's CPU. A page
kept as the bytes DRF's ``JSONRenderer`` wrote for it is sent as it is. ``JSONRenderer`` here
is DRF's, plus that: data wrapped in :class:`RenderedJSON` goes out unchanged, or, when the
client asked for indented JSON (``Accept: application/json; indent=4``, the browsable API), is
decoded and rendered as DRF renders any data, so every answer is byte for byte what DRF
would have sent for the data.
"""

from __future__ import annotations

import json
from typing import Any

from rest_framework import renderers


class RenderedJSON:
    """The compact JSON of some data, as :func:`render_json` (DRF's ``JSONRenderer``) wrote it."""

    __slots__ = ("content",)

    def __init__(self, content: bytes) -> None:
        self.content = content


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer that sends :class:`RenderedJSON` without rendering it again."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, RenderedJSON):
            if self.get_indent(accepted_media_type, renderer_context or {}) is None:
                return data.content
            data = json.loads(data.content)
        return super().render(data, accepted_media_type, renderer_context)


def render_json(data: Any) -> bytes:
    """``data`` as DRF sends it to a client that asks for plain JSON."""
    return renderers.JSONRenderer().render(data)
