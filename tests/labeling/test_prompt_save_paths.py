"""The two ways ``prompt_save`` records a version write the same rows and answer the same JSON.

On PostgreSQL a save on the current version of an existing prompt is one statement
(``_record_accepted_version``); the first save, a stale save and every save on SQLite go
through ``_record_version``. The tests force the general path with ``monkeypatch`` to compare.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from labeling import imaging, services
from labeling.models import AttentionPrompt, Image, PromptVersion
from labeling.serializers import PromptSerializer
from labeling.services import prompts as prompt_services
from tests.labeling.conftest import sample_prompt

pytestmark = pytest.mark.django_db

_VERSION_FIELDS = (
    "version",
    "status",
    "based_on",
    "author_id",
    "window_center",
    "window_width",
    "counts",
    "size_bytes",
)
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the single-statement save is PostgreSQL's"
)


def _save_twice(image: Image, annotator: object, **window: float) -> AttentionPrompt:
    """A first save, then a save on version 1 (the one that may take the single statement)."""
    for base in (0, 1):
        prompt, _ = services.prompt_save(
            image=image,
            annotator=annotator,
            target_class="abnormal",
            mask=sample_prompt(12, 16, seed=base),
            base_version=base,
            **window,
        )
    return prompt


def _rows(prompt: AttentionPrompt) -> dict[str, Any]:
    stored = AttentionPrompt.objects.get(pk=prompt.pk)
    versions = PromptVersion.objects.filter(prompt=stored).order_by("version")
    return {
        "current_version": stored.current_version,
        "current_is_latest": stored.current_id == versions.last().pk,
        "versions": [
            {**{f: getattr(v, f) for f in _VERSION_FIELDS}, "mask": bytes(v.mask_png)}
            for v in versions
        ],
    }


@on_postgresql
def test_a_save_on_the_current_version_takes_one_statement(
    image, annotator, django_assert_num_queries
) -> None:
    _save_twice(image, annotator)

    with django_assert_num_queries(1):
        services.prompt_save(
            image=image,
            annotator=annotator,
            target_class="abnormal",
            mask=sample_prompt(12, 16, seed=5),
            base_version=2,
        )

    assert AttentionPrompt.objects.get().current_version == 3


@on_postgresql
@pytest.mark.parametrize("window", [{}, {"window_center": 40, "window_width": 400}])
def test_both_paths_record_the_same_rows(image, annotator, owner, monkeypatch, window) -> None:
    single_statement = _rows(_save_twice(image, annotator, **window))
    monkeypatch.setattr(prompt_services, "_record_accepted_version", lambda **_: None)

    general = _rows(_save_twice(image, owner, **window))

    for row in general["versions"]:
        row["author_id"] = annotator.pk
    assert single_statement == general


def test_the_returned_prompt_is_what_the_database_holds(image, annotator) -> None:
    prompt = _save_twice(image, annotator, window_center=40, window_width=400)

    stored = AttentionPrompt.objects.select_related("annotator", "current").get(pk=prompt.pk)
    assert PromptSerializer(prompt).data == PromptSerializer(stored).data
    assert prompt.current.pk == stored.current_id
    assert bytes(prompt.current.mask_png) == bytes(stored.current.mask_png)


@on_postgresql
def test_a_stale_save_writes_nothing_in_the_single_statement(image, annotator) -> None:
    _save_twice(image, annotator)
    before = PromptVersion.objects.count()

    returned = prompt_services._record_accepted_version(
        image=image,
        annotator=annotator,
        target_class="abnormal",
        png=imaging.prompt_to_png(sample_prompt(12, 16)),
        counts={"important": 0, "unimportant": 0, "unclear": 192},
        base_version=1,
        window=(None, None),
    )

    assert returned is None
    assert PromptVersion.objects.count() == before
    assert AttentionPrompt.objects.get().current_version == 2


@pytest.mark.parametrize("window", ["", "&window_center=40.5&window_width=400"])
def test_a_save_answers_what_a_get_of_the_prompt_answers(
    annotator_client: APIClient, image, window
) -> None:
    url = f"/api/v1/images/{image.pk}/prompts/mine/?target_class=abnormal"
    for base in (0, 1):  # the first save, then a save on the current version
        mask = imaging.prompt_to_rle(sample_prompt(12, 16, seed=base))
        saved = annotator_client.put(
            url + window, {"mask": mask}, format="json", HTTP_IF_MATCH=f'"{base}"'
        )

        assert saved.status_code == 200, saved.json()
        assert saved.json() == annotator_client.get(url).json()
        stored = AttentionPrompt.objects.select_related("annotator", "current").get()
        assert saved.json() == json.loads(JSONRenderer().render(PromptSerializer(stored).data))
