"""Browsing in a real browser: sign in, filter a project's grid, open an image."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from labeling import services
from labeling.models import Project
from tests.e2e.conftest import PASSWORD, png_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# name -> (split, label, width, height, colour)
IMAGES = {
    "alpha.png": ("train", "normal", 24, 16, (200, 30, 30)),
    "bravo.png": ("test", "abnormal", 20, 20, (30, 200, 30)),
    "charlie.png": ("val", None, 16, 24, (30, 30, 200)),
    "delta.png": ("test", "normal", 32, 16, (200, 200, 30)),
    "echo.png": ("train", "abnormal", 18, 18, (30, 200, 200)),
}


@pytest.fixture
def project(make_user: Callable[..., object]) -> Project:
    """A project of five small PNGs over three splits, owned by ``alice``."""
    alice = make_user("alice")
    project = services.project_create(
        name="Chest films", class_names=["normal", "abnormal"], creator=alice
    )
    for name, (split, label, width, height, colour) in IMAGES.items():
        services.image_create(
            project=project,
            name=name,
            data=png_bytes(width, height, colour),
            created_by=alice,
            label=label,
            split=split,
        )
    return project


def grid_names(page: Page) -> list[str]:
    return page.get_by_test_id("image-grid").locator(".image-name").all_inner_texts()


def test_a_member_filters_the_grid_and_opens_an_image(
    page: Page, login: Callable[..., None], project: Project
) -> None:
    login(page, "alice", PASSWORD)

    page.get_by_role("link", name="Chest films").click()
    expect(page).to_have_url(f"/projects/{project.pk}")
    expect(page.get_by_test_id("image-grid").locator(".image-card")).to_have_count(5)

    page.get_by_label("Split").select_option("test")
    expect(page).to_have_url(f"/projects/{project.pk}?split=test")
    expect(page.get_by_test_id("image-grid").locator(".image-card")).to_have_count(2)
    assert grid_names(page) == ["bravo.png", "delta.png"]

    page.get_by_role("link", name="delta.png").click()
    expect(page.get_by_role("heading", name="delta.png")).to_be_visible()
    display = page.get_by_test_id("display-image")
    expect(display).to_be_visible()
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=display.element_handle())
    assert display.evaluate("el => [el.naturalWidth, el.naturalHeight]") == [32, 16]

    metadata = page.get_by_test_id("image-metadata")
    expect(metadata.get_by_role("row", name="Format")).to_contain_text("PNG")
    expect(metadata.get_by_role("row", name="Size")).to_contain_text("32 \u00d7 16 px")
    # Within the filtered list (split=test, by name) delta follows bravo and is the last one.
    expect(page.get_by_role("link", name="← Previous")).to_have_attribute("title", "bravo.png")
    expect(page.get_by_text("2 of 2")).to_be_visible()
