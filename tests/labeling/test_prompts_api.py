"""Attention prompts through the API: saving (PNG and RLE), versions, conflicts, masks."""

from __future__ import annotations

import numpy as np
import pytest
from rest_framework.response import Response
from rest_framework.test import APIClient

from labeling import imaging
from labeling.models import AttentionPrompt, Image, PromptVersion
from tests.labeling.conftest import grey_png, png_pixels, prompt_png, sample_prompt

pytestmark = pytest.mark.django_db


def _mine(image: Image, target: str = "") -> str:
    query = f"?target_class={target}" if target else ""
    return f"/api/v1/images/{image.pk}/prompts/mine/{query}"


def _put_png(
    client: APIClient, image: Image, mask_png: bytes, version: int, **query: float
) -> Response:
    url = _mine(image)
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return client.put(url, mask_png, content_type="image/png", HTTP_IF_MATCH=f'"{version}"')


@pytest.mark.smoke
def test_an_annotator_saves_a_first_prompt_as_png(annotator_client, image, annotator) -> None:
    mask = sample_prompt(12, 16)

    response = _put_png(annotator_client, image, prompt_png(mask), 0)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert response["ETag"] == '"1"'
    assert body["version"] == 1
    assert body["target_class"] == "abnormal"  # the image's label
    assert body["annotator"]["username"] == "annotator"
    assert body["counts"] == {
        "important": int((mask == 1).sum()),
        "unimportant": int((mask == 0).sum()),
        "unclear": int((mask == -1).sum()),
    }
    stored = AttentionPrompt.objects.get(image=image, annotator=annotator)
    assert np.array_equal(imaging.prompt_from_png(bytes(stored.current.mask_png)), mask)


def test_a_prompt_saved_as_rle_reads_back_identically(annotator_client, image) -> None:
    mask = sample_prompt(12, 16, seed=3)

    saved = annotator_client.put(
        _mine(image), {"mask": imaging.prompt_to_rle(mask), "base_version": 0}, format="json"
    )
    rle = annotator_client.get(f"{saved.json()['mask_url']}?format=rle").json()
    png = annotator_client.get(saved.json()["mask_url"])

    assert saved.status_code == 200, saved.json()
    assert np.array_equal(imaging.prompt_from_rle(rle), mask)
    assert np.array_equal(imaging.prompt_from_png(png.content), mask)
    assert png["Content-Type"] == "image/png"


def test_each_save_adds_a_version(annotator_client, image) -> None:
    first = _put_png(annotator_client, image, prompt_png(sample_prompt(12, 16, 1)), 0)
    second = _put_png(annotator_client, image, prompt_png(sample_prompt(12, 16, 2)), 1)

    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    history = annotator_client.get(f"/api/v1/prompts/{second.json()['id']}/history/").json()
    assert [(v["version"], v["status"], v["based_on"]) for v in history["results"]] == [
        (1, "accepted", 0),
        (2, "accepted", 1),
    ]


def test_an_older_version_is_still_readable(annotator_client, image) -> None:
    old = sample_prompt(12, 16, 1)
    _put_png(annotator_client, image, prompt_png(old), 0)
    saved = _put_png(annotator_client, image, prompt_png(sample_prompt(12, 16, 2)), 1)

    response = annotator_client.get(f"/api/v1/prompts/{saved.json()['id']}/mask/?version=1")

    assert np.array_equal(imaging.prompt_from_png(response.content), old)


@pytest.mark.smoke
def test_a_stale_save_is_a_409_and_kept_in_the_history(annotator_client, image) -> None:
    mine = sample_prompt(12, 16, 1)
    _put_png(annotator_client, image, prompt_png(sample_prompt(12, 16, 0)), 0)
    _put_png(annotator_client, image, prompt_png(sample_prompt(12, 16, 2)), 1)  # another tab

    response = _put_png(annotator_client, image, prompt_png(mine), 1)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert error["detail"]["current_version"] == 2
    assert error["detail"]["current"]["version"] == 2
    kept = PromptVersion.objects.get(pk=error["detail"]["your_version_id"])
    assert (kept.status, kept.version, kept.based_on) == ("conflict", None, 1)
    assert np.array_equal(imaging.prompt_from_png(bytes(kept.mask_png)), mine)
    history = annotator_client.get(f"/api/v1/prompts/{kept.prompt_id}/history/").json()
    assert [v["status"] for v in history["results"]] == ["accepted", "accepted", "conflict"]
    conflict_mask = annotator_client.get(history["results"][2]["mask_url"])
    assert np.array_equal(imaging.prompt_from_png(conflict_mask.content), mine)
    assert AttentionPrompt.objects.get(pk=kept.prompt_id).current_version == 2


def test_a_save_without_a_base_version_is_a_428(annotator_client, image) -> None:
    response = annotator_client.put(
        _mine(image), prompt_png(sample_prompt(12, 16)), content_type="image/png"
    )

    assert response.status_code == 428
    assert response.json()["error"]["code"] == "precondition_required"
    assert not PromptVersion.objects.exists()


def test_if_match_may_be_unquoted(annotator_client, image) -> None:
    response = annotator_client.put(
        _mine(image),
        prompt_png(sample_prompt(12, 16)),
        content_type="image/png",
        HTTP_IF_MATCH="0",
    )

    assert response.status_code == 200


def test_a_prompt_of_the_wrong_size_is_a_400_naming_both_sizes(annotator_client, image) -> None:
    response = _put_png(annotator_client, image, prompt_png(sample_prompt(80, 100)), 0)

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "prompt is 100x80 but the image is 16x12"


def test_a_prompt_with_other_values_is_a_400_listing_them(annotator_client, image) -> None:
    codes = np.zeros((12, 16), np.uint8)
    codes[0, 0], codes[0, 1] = 17, 200

    response = _put_png(annotator_client, image, grey_png(codes), 0)

    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "17" in message and "200" in message
    assert not PromptVersion.objects.exists()


def test_a_body_that_is_not_a_png_is_a_400(annotator_client, image) -> None:
    response = _put_png(annotator_client, image, b"not a png", 0)

    assert response.status_code == 400


def test_a_bad_rle_is_a_400(annotator_client, image) -> None:
    rle = {"width": 16, "height": 12, "rle": [[1, 5]]}

    response = annotator_client.put(_mine(image), {"mask": rle, "base_version": 0}, format="json")

    assert response.status_code == 400


def test_a_target_class_outside_the_project_is_a_400(annotator_client, image) -> None:
    response = annotator_client.put(
        _mine(image, "cat"),
        prompt_png(sample_prompt(12, 16)),
        content_type="image/png",
        HTTP_IF_MATCH="0",
    )

    assert response.status_code == 400


def test_prompts_for_two_target_classes_are_separate(annotator_client, image) -> None:
    a = annotator_client.put(
        _mine(image, "normal"),
        prompt_png(sample_prompt(12, 16, 1)),
        content_type="image/png",
        HTTP_IF_MATCH="0",
    )
    b = annotator_client.put(
        _mine(image, "abnormal"),
        prompt_png(sample_prompt(12, 16, 2)),
        content_type="image/png",
        HTTP_IF_MATCH="0",
    )

    assert (a.status_code, b.status_code) == (200, 200)
    assert a.json()["id"] != b.json()["id"]
    assert annotator_client.get(_mine(image, "normal")).json()["id"] == a.json()["id"]


def test_the_window_drawn_with_is_stored(annotator_client, image) -> None:
    response = _put_png(
        annotator_client,
        image,
        prompt_png(sample_prompt(12, 16)),
        0,
        window_center=40,
        window_width=400,
    )

    assert (response.json()["window_center"], response.json()["window_width"]) == (40.0, 400.0)


def test_my_prompt_is_a_404_before_the_first_save(annotator_client, image) -> None:
    response = annotator_client.get(_mine(image))

    assert response.status_code == 404


def test_a_stale_first_save_keeps_the_mask_but_shows_no_prompt(annotator_client, image) -> None:
    response = _put_png(annotator_client, image, prompt_png(sample_prompt(12, 16)), 4)

    assert response.status_code == 409
    assert response.json()["error"]["detail"]["current"] is None
    assert PromptVersion.objects.filter(status="conflict").count() == 1
    assert annotator_client.get(_mine(image)).status_code == 404
    listed = annotator_client.get(f"/api/v1/images/{image.pk}/prompts/").json()
    assert listed["count"] == 0


def test_everyone_in_the_project_reads_every_prompt(
    annotator_client, reviewer_client, image
) -> None:
    _put_png(annotator_client, image, prompt_png(sample_prompt(12, 16)), 0)

    body = reviewer_client.get(f"/api/v1/images/{image.pk}/prompts/").json()

    assert [p["annotator"]["username"] for p in body["results"]] == ["annotator"]
    assert png_pixels(reviewer_client.get(body["results"][0]["mask_url"]).content).shape == (
        12,
        16,
    )


def test_the_image_reports_its_prompts(annotator_client, image) -> None:
    _put_png(annotator_client, image, prompt_png(sample_prompt(12, 16)), 0)

    body = annotator_client.get(f"/api/v1/images/{image.pk}/").json()

    assert (body["has_prompt"], body["prompt_count"]) == (True, 1)


def test_an_unknown_mask_version_is_a_404(annotator_client, image) -> None:
    saved = _put_png(annotator_client, image, prompt_png(sample_prompt(12, 16)), 0)

    response = annotator_client.get(f"/api/v1/prompts/{saved.json()['id']}/mask/?version=9")

    assert response.status_code == 404
