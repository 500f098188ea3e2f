"""Signing in and out in a real browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from labeling import services
from labeling.models import Project
from tests.e2e.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def project(make_user: Callable[..., object]) -> Project:
    return services.project_create(
        name="Knee films", class_names=["normal", "abnormal"], creator=make_user("bob")
    )


def test_an_anonymous_visitor_signs_in_and_lands_on_the_page_asked_for(
    page: Page, project: Project
) -> None:
    page.goto(f"/projects/{project.pk}")
    expect(page).to_have_url(f"/login?next=%2Fprojects%2F{project.pk}")

    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"/projects/{project.pk}")
    expect(page.get_by_role("heading", name="Knee films")).to_be_visible()


def test_a_wrong_password_is_refused_with_a_message(page: Page, project: Project) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url("/login")


def test_signing_out_ends_the_session(
    page: Page, login: Callable[..., None], project: Project
) -> None:
    login(page, "bob", PASSWORD)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url("/login")

    page.goto("/")
    expect(page).to_have_url("/login")
