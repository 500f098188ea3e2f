"""Review and rating studies in a real browser: keyboard answers move the matrix; a blind study
rated by two reviewers ends in a report with the Kruskal-Wallis result."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect
from scipy import stats

from labeling import services
from labeling.models import Project, Role, StudyPresentation
from labeling.services import studies as study_services
from labeling.services.studies import ConditionSpec
from tests.e2e.conftest import PASSWORD
from tests.labeling.review_support import make_images, make_version, predict

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def project(make_user: Callable[..., object]) -> Project:
    """Alice administers a project in which Rita and Rob review."""
    alice = make_user("alice")
    for name in ("rita", "rob"):
        make_user(name)
    project = services.project_create(
        name="Films", class_names=["normal", "abnormal"], creator=alice
    )
    for name in ("rita", "rob"):
        services.member_add(project=project, username=name, role=Role.REVIEWER)
    return project


def matrix_count(page: Page, quadrant: str) -> Locator:
    return page.get_by_test_id(f"matrix-{quadrant}")


def test_a_reviewer_answers_by_keyboard_and_the_matrix_follows(
    page: Page, login: Callable[..., None], project: Project
) -> None:
    alice = project.memberships.get(role=Role.ADMIN).user
    images = make_images(project, alice, ["abnormal", "normal", "normal"], size=16)
    version = make_version(project)
    predict(version, images[0], "abnormal")  # right
    predict(version, images[1], "abnormal")  # wrong
    predict(version, images[2], "normal")  # right

    login(page, "rita", PASSWORD)
    page.goto(f"/model-versions/{version.pk}/review")
    expect(page.get_by_test_id("review-image-name")).to_have_text("img0.png")
    expect(matrix_count(page, "RA")).to_have_text("0")

    page.keyboard.press("y")  # Q1: the needed details are highlighted
    expect(page.get_by_role("button", name="Yes Y").first).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("n")  # Q2: nothing unneeded -> reasonable, accurate
    expect(matrix_count(page, "RA")).to_have_text("1")
    expect(page.get_by_test_id("review-image-name")).to_have_text("img1.png")

    page.keyboard.press("n")
    page.keyboard.press("y")  # unreasonable, inaccurate
    expect(matrix_count(page, "UIA")).to_have_text("1")
    expect(page.get_by_test_id("review-image-name")).to_have_text("img2.png")
    expect(page.get_by_test_id("ra-performance")).to_have_text("0.50")
    expect(page.get_by_test_id("annotate-hint")).to_contain_text("img1.png")

    page.keyboard.press("a")  # one key from "unreasonable" to the prompt canvas
    expect(page).to_have_url(re.compile(rf"/images/{images[1].pk}/annotate"))


def rate_blind(page: Page, scores: dict[str, list[int]], names: dict[int, str]) -> None:
    """Rates every item of the open study page by keyboard: Y, N, then the Likert digit that
    ``scores[condition][image position]`` gives (the test reads the recorded order)."""
    for _ in range(3):
        item = page.get_by_test_id("study-item")
        expect(item).to_be_visible()
        item_id = int(item.get_attribute("data-item-id"))
        presentation = StudyPresentation.objects.select_related("study_image").get(pk=item_id)
        for slot, condition_id in enumerate(presentation.order, start=1):
            expect(page.get_by_test_id(f"slot-{slot}")).to_have_class(re.compile("active"))
            score = scores[names[condition_id]][presentation.study_image.position]
            for key in ("y", "n", str(score)):
                page.keyboard.press(key)
            expect(page.get_by_test_id(f"slot-{slot}")).to_have_class(re.compile("complete"))
        expect(page.locator(f'[data-item-id="{item_id}"]')).to_have_count(0)
    expect(page.get_by_test_id("study-done")).to_contain_text("All images rated")


def test_a_study_rated_by_two_reviewers_reports_the_test_result(
    page: Page, login: Callable[..., None], project: Project
) -> None:
    alice = project.memberships.get(role=Role.ADMIN).user
    images = make_images(project, alice, ["abnormal", "normal", "abnormal"], size=16)
    first, second = make_version(project), make_version(project)
    for image in images:
        predict(first, image, "abnormal")
        predict(second, image, image.label)
    study = study_services.study_create(
        project=project,
        name="Maps",
        image_ids=[image.pk for image in images],
        conditions=[
            ConditionSpec(name="version 1", kind="model_map", model_version=first.pk),
            ConditionSpec(name="version 2", kind="model_map", model_version=second.pk),
        ],
        reviewers=["rita", "rob"],
        created_by=alice,
    )
    names = dict(study.conditions.values_list("pk", "name"))
    scores = {
        "rita": {"version 1": [1, 2, 1], "version 2": [5, 4, 5]},
        "rob": {"version 1": [2, 1, 2], "version 2": [4, 5, 4]},
    }
    for reviewer in ("rita", "rob"):
        login(page, reviewer, PASSWORD)
        page.goto(f"/studies/{study.pk}")
        expect(page.get_by_test_id("study-progress")).to_have_text("0 / 6 rated")
        rate_blind(page, scores[reviewer], names)
        page.context.clear_cookies()

    login(page, "alice", PASSWORD)
    page.goto(f"/studies/{study.pk}/report")
    low = scores["rita"]["version 1"] + scores["rob"]["version 1"]
    high = scores["rita"]["version 2"] + scores["rob"]["version 2"]
    h, _ = stats.kruskal(low, high)
    expect(page.get_by_test_id("kruskal-wallis")).to_contain_text(f"H = {h:.3f}, df = 1")
    dunn = page.get_by_test_id("dunn-table")
    expect(dunn).to_contain_text("version 1 vs version 2")
    expect(page.get_by_test_id("condition-table")).to_contain_text("100%")
