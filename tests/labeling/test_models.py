"""Single-row rules and database constraints of the labeling models."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from labeling.models import Image, Membership, Project, PromptVersion

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("class_names", "positive", "field"),
    [
        (["only"], "only", "class_names"),
        (["a", "a"], "a", "class_names"),
        (["a", " "], "a", "class_names"),
        ("a,b", "b", "class_names"),
        (["a", "b"], "c", "positive_class"),
    ],
)
def test_a_project_validates_its_classes(class_names, positive, field) -> None:
    project = Project(name="p", class_names=class_names, positive_class=positive)

    with pytest.raises(ValidationError) as error:
        project.full_clean()

    assert field in error.value.message_dict


def test_a_user_has_one_role_per_project(project, annotator) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(project=project, user=annotator, role="reviewer")


def test_the_database_refuses_an_unknown_role(project, outsider) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(project=project, user=outsider, role="owner")


def test_the_database_refuses_an_unknown_split(image) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Image.objects.filter(pk=image.pk).update(split="holdout")


def test_the_checksum_is_unique_in_a_project(image) -> None:
    copy = Image(
        project=image.project,
        name="copy.png",
        original=image.original.name,
        display=image.display.name,
        thumbnail=image.thumbnail.name,
        format="png",
        width=1,
        height=1,
        checksum=image.checksum,
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_the_same_file_may_be_in_two_projects(image, owner, make_png) -> None:
    from labeling import services

    other = services.project_create(name="Other", class_names=["x", "y"], creator=owner)

    (created,) = services.image_create(
        project=other, name="first.png", data=make_png(16, 12), created_by=owner
    )

    assert created.checksum == image.checksum


def test_a_label_must_be_a_class_of_the_project(image) -> None:
    image.label = "cat"

    with pytest.raises(ValidationError):
        image.full_clean()


def test_a_conflict_version_has_no_number(image, annotator) -> None:
    from labeling import services
    from tests.labeling.conftest import sample_prompt

    prompt, _ = services.prompt_save(
        image=image,
        annotator=annotator,
        target_class="normal",
        mask=sample_prompt(12, 16),
        base_version=0,
    )
    bad = PromptVersion(
        prompt=prompt,
        version=5,
        status="conflict",
        based_on=0,
        author=annotator,
        mask_png=b"",
        size_bytes=0,
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        bad.save()
