"""Reasonability review: assessments, the matrix, majority vote, adjudication, energy, GRADIA."""

from __future__ import annotations

import numpy as np
import pytest

from labeling import services
from labeling.models import Role
from labeling.selectors import review as review_selectors
from labeling.services import review as review_services
from sightline.errors import ApplicationError
from tests.labeling.review_support import make_images, make_version, predict, store_map

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(project):
    return make_version(project)


@pytest.fixture
def images(project, owner, version):
    """Four labelled images; the version predicts img0, img1 right and img2, img3 wrong."""
    created = make_images(project, owner, ["abnormal", "normal", "abnormal", "normal"])
    for image, predicted in zip(created, ["abnormal", "normal", "normal", "abnormal"], strict=True):
        predict(version, image, predicted)
    return created


@pytest.fixture
def second_reviewer(project, make_user):
    user = make_user("reviewer2")
    services.member_add(project=project, username=user.username, role=Role.REVIEWER)
    return user


@pytest.fixture
def third_reviewer(project, make_user):
    user = make_user("reviewer3")
    services.member_add(project=project, username=user.username, role=Role.REVIEWER)
    return user


def answer(version, image, user, q1: bool, q2: bool):
    return review_services.assessment_submit(
        model_version=version, image=image, reviewer=user, q1_needed=q1, q2_unneeded=q2
    )


def test_an_assessment_records_the_prediction_the_reviewer_was_shown(version, images, reviewer):
    assessment = answer(version, images[2], reviewer, True, False)
    assert assessment.predicted_class == "normal"
    assert assessment.reasonable


def test_answering_again_changes_the_same_assessment(version, images, reviewer):
    first = answer(version, images[0], reviewer, True, False)
    second = answer(version, images[0], reviewer, True, True)
    assert first.pk == second.pk
    assert not second.reasonable


def test_an_image_without_a_stored_prediction_cannot_be_assessed(project, owner, version, reviewer):
    (bare,) = make_images(project, owner, ["normal"], split="val", size=6)
    with pytest.raises(ApplicationError) as caught:
        answer(version, bare, reviewer, True, False)
    assert caught.value.code == "no_prediction"


def test_the_matrix_counts_each_quadrant(version, images, reviewer):
    answer(version, images[0], reviewer, True, False)  # reasonable, accurate -> RA
    answer(version, images[1], reviewer, False, False)  # unreasonable, accurate -> UA
    answer(version, images[2], reviewer, True, False)  # reasonable, inaccurate -> RIA
    answer(version, images[3], reviewer, True, True)  # unreasonable, inaccurate -> UIA
    matrix = review_selectors.review_matrix(model_version=version)
    assert matrix["counts"] == {"RA": 1, "UA": 1, "RIA": 1, "UIA": 1}
    assert matrix["ra_performance"] == 0.25
    assert matrix["attention_accuracy"] == 0.5
    assert matrix["predicted_images"] == 4


def test_the_matrix_of_one_split_leaves_other_splits_out(project, owner, version, images, reviewer):
    (other,) = make_images(project, owner, ["normal"], split="val", size=6)
    predict(version, other, "normal")
    answer(version, other, reviewer, True, False)
    answer(version, images[0], reviewer, True, False)
    assert review_selectors.review_matrix(model_version=version, split="test")["total"] == 1
    assert review_selectors.review_matrix(model_version=version)["total"] == 2


def test_the_majority_of_three_reviewers_decides(
    version, images, reviewer, second_reviewer, third_reviewer
):
    answer(version, images[0], reviewer, True, False)
    answer(version, images[0], second_reviewer, True, False)
    answer(version, images[0], third_reviewer, False, False)
    matrix = review_selectors.review_matrix(model_version=version)
    assert matrix["counts"]["RA"] == 1
    assert matrix["disagreements"] == 1


def test_a_tie_is_undecided_until_an_admin_adjudicates(
    version, images, reviewer, second_reviewer, owner
):
    answer(version, images[0], reviewer, True, False)
    answer(version, images[0], second_reviewer, False, True)
    matrix = review_selectors.review_matrix(model_version=version)
    assert matrix["total"] == 0 and matrix["undecided"] == 1
    (disputed,) = review_selectors.review_disagreements(model_version=version)
    assert disputed.image_id == images[0].pk and disputed.majority is None

    review_services.adjudication_set(
        model_version=version, image=images[0], reasonable=False, decided_by=owner
    )
    matrix = review_selectors.review_matrix(model_version=version)
    assert matrix["counts"]["UA"] == 1 and matrix["undecided"] == 0


def test_an_admin_may_decide_an_image_nobody_assessed(version, images, owner):
    review_services.adjudication_set(
        model_version=version, image=images[2], reasonable=True, decided_by=owner
    )
    matrix = review_selectors.review_matrix(model_version=version)
    assert matrix["counts"]["RIA"] == 1 and matrix["assessed_images"] == 1


def test_an_image_without_a_stored_prediction_cannot_be_adjudicated(
    project, owner, version, images
):
    (bare,) = make_images(project, owner, ["normal"], split="val", size=6)
    with pytest.raises(ApplicationError) as caught:
        review_services.adjudication_set(
            model_version=version, image=bare, reasonable=True, decided_by=owner
        )
    assert caught.value.code == "no_prediction"


def test_agreement_is_reported_per_pair_and_over_all_reviewers(
    version, images, reviewer, second_reviewer
):
    # reviewer: R R U U, reviewer2: R U U U -> po 3/4, pe 0.5*0.25 + 0.5*0.75 = 0.5, kappa 0.5.
    for image, mine, theirs in zip(
        images, [True, True, False, False], [True, False, False, False], strict=True
    ):
        answer(version, image, reviewer, mine, False)
        answer(version, image, second_reviewer, theirs, False)
    agreement = review_selectors.review_matrix(model_version=version)["agreement"]
    (pair,) = agreement["cohen"]
    assert (pair["a"], pair["b"], pair["n"]) == ("reviewer", "reviewer2", 4)
    assert pair["kappa"] == pytest.approx(0.5)
    assert agreement["fleiss"]["items"] == 4 and agreement["fleiss"]["raters"] == 2


def test_a_cell_lists_its_images(version, images, reviewer):
    answer(version, images[0], reviewer, True, False)
    answer(version, images[1], reviewer, True, False)
    answer(version, images[2], reviewer, False, False)
    cell = review_selectors.review_cell(model_version=version, quadrant="RA")
    assert [d.image_id for d in cell] == [images[0].pk, images[1].pk]


def test_unlabelled_images_are_assessed_but_stay_out_of_the_matrix(
    project, owner, version, reviewer
):
    (unlabelled,) = make_images(project, owner, [None], size=5)
    predict(version, unlabelled, "normal")
    answer(version, unlabelled, reviewer, True, False)
    matrix = review_selectors.review_matrix(model_version=version)
    assert matrix["total"] == 0 and matrix["unlabelled"] == 1


def test_outside_energy_is_the_share_of_the_map_outside_the_important_region() -> None:
    attention = np.array([[1.0, 0.5], [0.5, 0.0]])
    prompt = np.array([[1, 0], [-1, 1]])
    assert review_services.outside_energy(attention, prompt) == pytest.approx(1.0 / 2.0)
    assert review_services.outside_energy(np.zeros((2, 2)), prompt) is None


def test_energies_are_computed_from_the_stored_map_and_the_prompt(version, images, owner):
    image = images[0]
    prompt = np.full((8, 8), -1, dtype=np.int8)
    prompt[:, :2] = 1  # half of the bright left half (columns 0-3) is important
    services.prompt_save(
        image=image, annotator=owner, target_class="abnormal", mask=prompt, base_version=0
    )
    # Every prediction gets its first energy (None where the image has no prompt).
    assert review_services.prediction_energies_refresh(model_version=version) == 4
    stored = version.image_predictions.get(image=image)
    assert stored.outside_energy == pytest.approx(0.5)
    assert review_services.prediction_energies_refresh(model_version=version) == 0


def test_recording_predictions_again_recomputes_the_energy_from_the_new_map(version, images, owner):
    image = images[0]
    prompt = np.full((8, 8), -1, dtype=np.int8)
    prompt[:, :2] = 1
    services.prompt_save(
        image=image, annotator=owner, target_class="abnormal", mask=prompt, base_version=0
    )
    review_services.prediction_energies_refresh(model_version=version)
    assert version.image_predictions.get(image=image).outside_energy == pytest.approx(0.5)
    review_services.image_predictions_record(
        model_version=version, probabilities=[(image.pk, {"abnormal": 0.8, "normal": 0.2})]
    )
    store_map(version, image, np.full((8, 8), 255, dtype=np.uint8))
    review_services.prediction_energies_refresh(model_version=version)
    assert version.image_predictions.get(image=image).outside_energy == pytest.approx(0.75)


def test_gradia_quadrants_come_from_decided_assessments(project, version, images, reviewer):
    answer(version, images[0], reviewer, True, False)
    answer(version, images[3], reviewer, False, True)
    quadrants = review_selectors.gradia_quadrants_for_training(project=project)
    assert quadrants == {images[0].pk: "RA", images[3].pk: "UIA"}


def test_gradia_quadrants_prefer_the_newest_version_that_decided_an_image(
    project, version, images, reviewer
):
    answer(version, images[0], reviewer, True, False)
    answer(version, images[1], reviewer, True, False)
    newer = make_version(project)
    predict(newer, images[0], "normal")  # now wrong
    review_services.assessment_submit(
        model_version=newer, image=images[0], reviewer=reviewer, q1_needed=False, q2_unneeded=True
    )
    quadrants = review_selectors.gradia_quadrants_for_training(project=project)
    assert quadrants == {images[0].pk: "UIA", images[1].pk: "RA"}
    only_old = review_selectors.gradia_quadrants_for_training(
        project=project, model_version=version
    )
    assert only_old[images[0].pk] == "RA"


def test_the_review_queue_runs_a_fixed_number_of_queries(
    version, images, reviewer, django_assert_max_num_queries
):
    answer(version, images[0], reviewer, True, False)
    queue = review_selectors.review_queue(model_version=version, user=reviewer)
    with django_assert_max_num_queries(1):
        rows = list(queue)
    assert [row.image_id for row in rows] == [image.pk for image in images]
    assert rows[0].my_q1 is True and rows[1].my_q1 is None
    assert all(row.map_id is not None for row in rows)


def test_the_pending_queue_leaves_out_what_the_caller_answered(version, images, reviewer):
    answer(version, images[0], reviewer, True, False)
    queue = review_selectors.review_queue(model_version=version, user=reviewer, pending_only=True)
    assert [row.image_id for row in queue] == [image.pk for image in images[1:]]
