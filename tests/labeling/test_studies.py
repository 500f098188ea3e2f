"""Rating studies: creation with recorded random orders, blind answers, the report, exports."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import stats

from labeling import services
from labeling.models import Rating, Role, StudyPresentation
from labeling.selectors import studies as study_selectors
from labeling.services import studies as study_services
from labeling.services.studies import ConditionSpec
from sightline.errors import ApplicationError
from tests.labeling.conftest import png_pixels
from tests.labeling.review_support import make_images, make_version, predict

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_reviewer(project, make_user):
    user = make_user("reviewer2")
    services.member_add(project=project, username=user.username, role=Role.REVIEWER)
    return user


@pytest.fixture
def setup(project, owner):
    """Three images, two versions with maps for all of them, a prompt on every image."""
    images = make_images(project, owner, ["abnormal", "normal", "abnormal"])
    first, second = make_version(project), make_version(project)
    for image in images:
        predict(first, image, "abnormal")
        predict(second, image, image.label)
        prompt = np.full((image.height, image.width), -1, dtype=np.int8)
        prompt[:2, :2] = 1
        services.prompt_save(
            image=image, annotator=owner, target_class=image.label, mask=prompt, base_version=0
        )
    return images, first, second


def conditions(first, second, *, raw: bool = False) -> list[ConditionSpec]:
    specs = [
        ConditionSpec(name="v1", kind="model_map", model_version=first.pk),
        ConditionSpec(name="v2", kind="model_map", model_version=second.pk),
    ]
    if raw:
        specs.append(ConditionSpec(name="drawn", kind="raw_prompt"))
    return specs


def create(project, owner, setup, reviewers, **extra):
    images, first, second = setup
    return study_services.study_create(
        project=project,
        name=extra.pop("name", "Study"),
        image_ids=[i.pk for i in images],
        conditions=extra.pop("conditions", conditions(first, second)),
        reviewers=reviewers,
        created_by=owner,
        rng=random.Random(7),
        **extra,
    )


def test_each_reviewer_gets_every_image_with_a_recorded_order_of_the_conditions(
    project, owner, setup, reviewer, second_reviewer
):
    study = create(project, owner, setup, ["reviewer", "reviewer2"])
    items = StudyPresentation.objects.filter(study=study)
    assert items.count() == 6
    condition_ids = sorted(study.conditions.values_list("pk", flat=True))
    for item in items:
        assert sorted(item.order) == condition_ids
    positions = sorted(items.filter(reviewer=reviewer).values_list("position", flat=True))
    assert positions == [0, 1, 2]


def test_the_order_of_conditions_is_random_across_items(project, owner, setup, reviewer):
    images, first, second = setup
    study = study_services.study_create(
        project=project,
        name="Many",
        image_ids=[i.pk for i in images],
        conditions=conditions(first, second, raw=True),
        reviewers=["reviewer"],
        created_by=owner,
        rng=random.Random(3),
    )
    orders = {
        tuple(o)
        for o in StudyPresentation.objects.filter(study=study).values_list("order", flat=True)
    }
    assert len(orders) > 1


def test_a_study_needs_two_conditions(project, owner, setup, reviewer):
    _images, first, _ = setup
    with pytest.raises(ApplicationError, match="at least two conditions"):
        create(
            project,
            owner,
            setup,
            ["reviewer"],
            conditions=[ConditionSpec(name="v1", kind="model_map", model_version=first.pk)],
        )


def test_annotators_cannot_be_raters(project, owner, setup, annotator):
    with pytest.raises(ApplicationError, match="only reviewers and admins rate"):
        create(project, owner, setup, ["annotator"])


def test_a_condition_without_maps_for_some_image_is_refused(project, owner, setup, reviewer):
    images, first, _second = setup
    empty = make_version(project)
    with pytest.raises(ApplicationError) as caught:
        create(
            project,
            owner,
            setup,
            ["reviewer"],
            conditions=[
                ConditionSpec(name="v1", kind="model_map", model_version=first.pk),
                ConditionSpec(name="none", kind="model_map", model_version=empty.pk),
            ],
        )
    assert caught.value.code == "missing_maps"
    assert sorted(caught.value.detail["none"]) == sorted(i.name for i in images)


def test_answers_are_saved_one_by_one_and_complete_when_all_are_given(
    project, owner, setup, reviewer
):
    study = create(project, owner, setup, ["reviewer"])
    item = study_selectors.presentation_next(study=study, user=reviewer)
    rating = study_services.rating_save(presentation=item, slot=1, q1_needed=True)
    assert not rating.complete and rating.q2_unneeded is None and rating.likert is None
    rating = study_services.rating_save(presentation=item, slot=1, q2_unneeded=False)
    assert not rating.complete and rating.q1_needed is True
    rating = study_services.rating_save(presentation=item, slot=1, likert=4)
    assert rating.complete
    assert rating.condition_id == item.order[0]


def test_the_next_item_moves_on_once_every_slot_is_complete(project, owner, setup, reviewer):
    study = create(project, owner, setup, ["reviewer"], questions=["likert"])
    first = study_selectors.presentation_next(study=study, user=reviewer)
    study_services.rating_save(presentation=first, slot=1, likert=2)
    assert study_selectors.presentation_next(study=study, user=reviewer).pk == first.pk
    study_services.rating_save(presentation=first, slot=2, likert=3)
    following = study_selectors.presentation_next(study=study, user=reviewer)
    assert following.position == first.position + 1


def test_a_question_the_study_does_not_ask_is_refused(project, owner, setup, reviewer):
    study = create(project, owner, setup, ["reviewer"], questions=["likert"])
    item = study_selectors.presentation_next(study=study, user=reviewer)
    with pytest.raises(ApplicationError, match="does not ask q1"):
        study_services.rating_save(presentation=item, slot=1, q1_needed=True)


def test_a_closed_study_takes_no_more_answers(project, owner, setup, reviewer):
    study = create(project, owner, setup, ["reviewer"])
    item = study_selectors.presentation_next(study=study, user=reviewer)
    study_services.study_close(study=study)
    item.study.refresh_from_db()
    with pytest.raises(ApplicationError) as caught:
        study_services.rating_save(presentation=item, slot=1, likert=3)
    assert caught.value.status_code == 409


def test_a_raw_prompt_condition_shows_the_important_region(project, owner, setup, reviewer):
    _images, first, second = setup
    study = create(
        project, owner, setup, ["reviewer"], conditions=conditions(first, second, raw=True)
    )
    item = study_selectors.presentation_next(study=study, user=reviewer)
    raw = study.conditions.get(name="drawn")
    png = study_selectors.study_map_png(presentation=item, slot=item.order.index(raw.pk) + 1)
    pixels = png_pixels(png)
    assert pixels[:2, :2].tolist() == [[255, 255], [255, 255]]
    assert int(pixels.sum()) == 4 * 255


def rate_all(study, user, scores_by_condition: dict[str, list[int]], reasonable: bool = True):
    """Answer every item: Likert from ``scores_by_condition[name][image position in study]``."""
    names = dict(study.conditions.values_list("pk", "name"))
    for item in study_selectors.presentation_list(study=study, user=user):
        for slot, condition_id in enumerate(item.order, start=1):
            score = scores_by_condition[names[condition_id]][item.study_image.position]
            answers = {"likert": score}
            if "q1" in study.questions:
                answers.update(q1_needed=reasonable, q2_unneeded=False)
            study_services.rating_save(presentation=item, slot=slot, **answers)


def test_the_report_compares_conditions_with_kruskal_wallis_and_dunn(
    project, owner, setup, reviewer, second_reviewer
):
    study = create(project, owner, setup, ["reviewer", "reviewer2"])
    rate_all(study, reviewer, {"v1": [1, 2, 1], "v2": [4, 5, 5]})
    rate_all(study, second_reviewer, {"v1": [2, 2, 1], "v2": [5, 4, 4]})
    report = study_selectors.study_report(study=study)
    by_name = {c["name"]: c for c in report["conditions"]}
    v1, v2 = [1, 2, 1, 2, 2, 1], [4, 5, 5, 5, 4, 4]
    assert by_name["v1"]["likert"]["mean"] == pytest.approx(np.mean(v1))
    assert by_name["v1"]["likert"]["sd"] == pytest.approx(np.std(v1, ddof=1))
    assert by_name["v2"]["likert"]["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 3, "5": 3}
    h, p = stats.kruskal(v1, v2)
    assert report["kruskal_wallis"]["h"] == pytest.approx(h)
    assert report["kruskal_wallis"]["p"] == pytest.approx(p)
    (pair,) = report["dunn"]["pairs"]
    assert report["dunn"]["correction"] == "holm"
    assert pair["p_adjusted"] < 0.05
    assert by_name["v1"]["reasonable"] == {"n": 6, "share": 1.0}


def test_the_report_gives_each_model_condition_its_matrix(
    project, owner, setup, reviewer, second_reviewer
):
    study = create(project, owner, setup, ["reviewer", "reviewer2"])
    rate_all(study, reviewer, {"v1": [3, 3, 3], "v2": [3, 3, 3]})
    rate_all(study, second_reviewer, {"v1": [3, 3, 3], "v2": [3, 3, 3]})
    by_name = {c["name"]: c for c in study_selectors.study_report(study=study)["conditions"]}
    # v1 predicts "abnormal" everywhere: right on images 0 and 2, wrong on image 1.
    assert by_name["v1"]["matrix"]["counts"] == {"RA": 2, "UA": 0, "RIA": 1, "UIA": 0}
    assert by_name["v2"]["matrix"]["counts"] == {"RA": 3, "UA": 0, "RIA": 0, "UIA": 0}


def test_the_report_measures_agreement_between_reviewers(
    project, owner, setup, reviewer, second_reviewer
):
    study = create(project, owner, setup, ["reviewer", "reviewer2"], questions=["likert"])
    rate_all(study, reviewer, {"v1": [1, 2, 3], "v2": [4, 5, 3]})
    rate_all(study, second_reviewer, {"v1": [1, 2, 3], "v2": [4, 5, 3]})
    agreement = study_selectors.study_report(study=study)["agreement"]["likert"]
    assert agreement["cohen_quadratic"][0]["kappa"] == pytest.approx(1.0)
    assert agreement["fleiss"]["kappa"] == pytest.approx(1.0)
    assert agreement["fleiss"]["items"] == 6


def test_the_export_has_one_row_per_rating_with_the_slot_shown(project, owner, setup, reviewer):
    study = create(project, owner, setup, ["reviewer"], questions=["likert"])
    rate_all(study, reviewer, {"v1": [1, 2, 3], "v2": [4, 5, 3]})
    rows = study_selectors.study_rating_rows(study=study)
    assert len(rows) == 6 == Rating.objects.filter(presentation__study=study).count()
    assert {row["condition"] for row in rows} == {"v1", "v2"}
    assert all(row["slot"] in (1, 2) and row["complete"] for row in rows)


def test_the_study_list_runs_one_query_whatever_its_length(
    project, owner, setup, reviewer, django_assert_max_num_queries
):
    create(project, owner, setup, ["reviewer"], name="first")
    create(project, owner, setup, ["reviewer"], name="second")
    with django_assert_max_num_queries(1):
        studies = list(study_selectors.study_list_for_user(user=reviewer, project=project))
    assert [s.name for s in studies] == ["second", "first"]
    assert all(s.my_done == 0 and s.my_presented == 3 and s.condition_count == 2 for s in studies)
