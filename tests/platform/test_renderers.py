"""Pre-rendered JSON goes out exactly as DRF would have rendered its data (sightline.renderers)."""

from __future__ import annotations

import json

import pytest
from rest_framework import renderers

from sightline.renderers import JSONRenderer, RenderedJSON, render_json

DATA = {
    "count": 2,
    "next": None,
    "results": [{"name": "é\u2028x.png", "width": 1.5, "tags": []}, {"name": "b", "ok": True}],
}


def test_rendered_json_is_what_drf_renders_for_the_data() -> None:
    assert render_json(DATA) == renderers.JSONRenderer().render(DATA)
    assert json.loads(render_json(DATA)) == DATA


def test_rendered_json_is_sent_unchanged() -> None:
    rendered = RenderedJSON(render_json(DATA))

    assert JSONRenderer().render(rendered, "application/json", {}) is rendered.content


@pytest.mark.parametrize(
    ("media_type", "context"),
    [("application/json; indent=4", {}), ("application/json", {"indent": 2})],
)
def test_indented_json_is_rendered_from_the_decoded_data(media_type, context) -> None:
    rendered = RenderedJSON(render_json(DATA))

    sent = JSONRenderer().render(rendered, media_type, dict(context))

    assert sent == renderers.JSONRenderer().render(DATA, media_type, dict(context))
    assert b"\n" in sent


def test_other_data_is_rendered_as_drf_renders_it() -> None:
    for media_type in ("application/json", "application/json; indent=4"):
        expected = renderers.JSONRenderer().render(DATA, media_type, {})
        assert JSONRenderer().render(DATA, media_type, {}) == expected
    assert JSONRenderer().render(None) == b""
