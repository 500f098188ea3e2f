"""What the hot requests' shortcuts must keep: cached tokens, conditional prompt GETs, counts."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from labeling import selectors, services
from tests.labeling.conftest import sample_prompt, save_sample_prompt

pytestmark = pytest.mark.django_db


def _token_client(user: object) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_a_deleted_token_is_refused_at_once(owner) -> None:
    client = _token_client(owner)
    assert client.get("/api/v1/auth/me/").status_code == 200  # now cached

    Token.objects.filter(user=owner).get().delete()

    assert client.get("/api/v1/auth/me/").status_code in {401, 403}


def test_a_deactivated_user_is_refused_at_once(owner) -> None:
    client = _token_client(owner)
    assert client.get("/api/v1/auth/me/").status_code == 200

    owner.is_active = False
    owner.save()

    assert client.get("/api/v1/auth/me/").status_code in {401, 403}


def test_a_cached_token_still_authenticates_its_own_user(owner, annotator) -> None:
    owner_client, annotator_client = _token_client(owner), _token_client(annotator)
    for _ in range(2):
        assert owner_client.get("/api/v1/auth/me/").json()["user"]["username"] == "owner"
        assert annotator_client.get("/api/v1/auth/me/").json()["user"]["username"] == "annotator"


def test_a_prompt_get_with_the_current_version_is_not_modified(annotator_client, image, annotator):
    save_sample_prompt(image, annotator)
    url = f"/api/v1/images/{image.pk}/prompts/mine/"

    same = annotator_client.get(url, HTTP_IF_NONE_MATCH='"1"')
    older = annotator_client.get(url, HTTP_IF_NONE_MATCH='W/"0"')

    assert same.status_code == 304
    assert same["ETag"] == '"1"'
    assert not same.content
    assert older.status_code == 200
    assert older.json()["version"] == 1


def test_an_outsider_gets_404_for_a_prompt_get_whatever_its_query(outsider_client, image):
    url = f"/api/v1/images/{image.pk}/prompts/mine/"
    assert outsider_client.get(url).status_code == 404
    assert outsider_client.get(f"{url}?target_class={'x' * 300}").status_code == 404


def test_listed_images_carry_their_prompt_counts(project, owner, annotator, image, make_png):
    (other,) = services.image_create(
        project=project, name="second.png", data=make_png(16, 12, seed=5), created_by=owner
    )
    save_sample_prompt(image, annotator)
    save_sample_prompt(image, owner)

    rows = selectors.image_list_for_user(
        user=owner, project=project, filters=selectors.ImageFilters()
    )

    assert {row.name: row.prompt_count for row in rows} == {"first.png": 2, "second.png": 0}
    (filtered,) = rows.filter(pk=other.pk)  # a chained queryset keeps counting
    assert filtered.prompt_count == 0
    unprompted = selectors.image_list_for_user(
        user=owner, project=project, filters=selectors.ImageFilters(has_prompt=False)
    )
    assert [row.pk for row in unprompted] == [other.pk]


def test_a_json_save_without_any_base_version_is_a_428(annotator_client, image) -> None:
    from labeling import imaging

    response = annotator_client.put(
        f"/api/v1/images/{image.pk}/prompts/mine/",
        {"mask": imaging.prompt_to_rle(sample_prompt(12, 16))},
        format="json",
    )

    assert response.status_code == 428
    assert response.json()["error"]["code"] == "precondition_required"


@pytest.mark.parametrize("persona", ["owner", "annotator", "reviewer", "superuser"])
@pytest.mark.parametrize("query", ["", "?target_class=abnormal"])
def test_the_prompt_get_answers_what_the_prompt_serializer_writes(
    request, client_for, image, make_user, persona, query
) -> None:
    from labeling.models import AttentionPrompt
    from labeling.serializers import PromptSerializer

    user = (
        make_user("root", is_superuser=True)
        if persona == "superuser"
        else (request.getfixturevalue(persona))
    )
    save_sample_prompt(image, user)
    save_sample_prompt(image, user, base_version=1, seed=3)  # the current version is the second
    prompt = AttentionPrompt.objects.get(annotator=user)

    response = client_for(user).get(f"/api/v1/images/{image.pk}/prompts/mine/{query}")

    assert response.status_code == 200
    expected = PromptSerializer(prompt).data
    assert response.json() == {**expected, "annotator": dict(expected["annotator"])}
    assert response["ETag"] == '"2"'


def test_the_prompt_get_follows_the_image_label_and_hides_other_targets(
    owner_client, owner, image
) -> None:
    url = f"/api/v1/images/{image.pk}/prompts/mine/"
    save_sample_prompt(image, owner)  # target "abnormal", the positive class
    assert owner_client.get(url).status_code == 200

    services.image_update(image=image, label="normal")  # the default target follows the label

    assert owner_client.get(url).status_code == 404
    assert owner_client.get(f"{url}?target_class=abnormal").status_code == 200
    assert owner_client.get(f"{url}?target_class=normal").status_code == 404


def test_a_removed_member_no_longer_reads_their_prompt(owner, annotator, annotator_client, image):
    from labeling.models import Membership

    save_sample_prompt(image, annotator)
    url = f"/api/v1/images/{image.pk}/prompts/mine/"
    assert annotator_client.get(url).status_code == 200

    services.member_remove(membership=Membership.objects.get(user=annotator))

    assert annotator_client.get(url).status_code == 404


PLAIN_TARGETS = (None, "abnormal", "a b", "x" * 200)
OTHER_TARGETS = ("x" * 201, "", "   ", " abnormal", "abnormal\n", "a\tb", "a\x00b")
OTHER_TARGETS += ("anormal\u00e9", "\ud800", "a\x7fb")


@pytest.mark.parametrize("value", PLAIN_TARGETS + OTHER_TARGETS)
def test_the_plain_target_class_shortcut_agrees_with_the_serializer(value) -> None:
    from labeling.serializers import TargetClassInput, plain_target_class

    query = {} if value is None else {"target_class": value}
    plain, target = plain_target_class(query)
    serializer = TargetClassInput(data=query)

    if plain:  # taken as it is only where the serializer accepts it unchanged
        assert serializer.is_valid()
        assert serializer.validated_data.get("target_class") == target
    else:  # everything else is left to the serializer
        assert target is None
        assert value is not None
    assert plain == (value in PLAIN_TARGETS)


def test_a_target_class_the_shortcut_leaves_to_the_serializer_is_still_cleaned(
    annotator_client, annotator, image
) -> None:
    save_sample_prompt(image, annotator)
    url = f"/api/v1/images/{image.pk}/prompts/mine/"

    padded = annotator_client.get(url, {"target_class": " abnormal "})  # trimmed, as before
    blank = annotator_client.get(url, {"target_class": ""})

    assert padded.status_code == 200
    assert padded.json()["target_class"] == "abnormal"
    assert blank.status_code == 400
    assert "target_class" in str(blank.json()["error"]["detail"])
