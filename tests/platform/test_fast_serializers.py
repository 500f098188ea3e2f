"""``FastRepresentationMixin`` gives exactly DRF's own output (sightline.serializers)."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from labeling import selectors, services
from labeling.serializers import ImageDetailSerializer, ImageSerializer, PromptSerializer
from tests.labeling.conftest import sample_prompt

pytestmark = pytest.mark.django_db


def _drf(serializer: serializers.Serializer, instance: object) -> dict:
    return serializers.Serializer.to_representation(serializer, instance)


@pytest.fixture
def images(project, owner, make_png) -> list:
    created = []
    for i, (label, split) in enumerate([("abnormal", "train"), (None, "val"), ("normal", "test")]):
        (image,) = services.image_create(
            project=project,
            name=f"{i}.png",
            data=make_png(16, 12, seed=i),
            created_by=owner,
            label=label,
            split=split,
        )
        created.append(image)
    services.prompt_save(
        image=created[0],
        annotator=owner,
        target_class="abnormal",
        mask=sample_prompt(12, 16),
        base_version=0,
    )
    return created


def test_image_rows_of_a_list_match_drf(owner, project, images) -> None:
    rows = selectors.image_list_for_user(
        user=owner, project=project, filters=selectors.ImageFilters()
    )
    serializer = ImageSerializer(rows, many=True)
    assert serializer.data == [_drf(serializer.child, row) for row in rows]
    assert [row["has_prompt"] for row in serializer.data] == [True, False, False]


def test_freshly_created_images_without_annotations_match_drf(images) -> None:
    serializer = ImageSerializer(images, many=True)
    assert serializer.data == [_drf(serializer.child, image) for image in images]


def test_image_details_match_drf_with_and_without_their_annotations(owner, images) -> None:
    detailed = selectors.image_get_for_user(user=owner, image_id=images[0].pk)
    for image in (detailed, images[1]):  # images[1] lacks has_explanation: DRF's own path
        serializer = ImageDetailSerializer(image)
        assert serializer.data == _drf(serializer, image)


def test_prompts_match_drf(owner, images) -> None:
    prompt = selectors.prompt_get_mine(image=images[0], user=owner, target_class="abnormal")
    serializer = PromptSerializer(prompt)
    assert serializer.data == _drf(serializer, prompt)
    assert serializer.data["version"] == 1
