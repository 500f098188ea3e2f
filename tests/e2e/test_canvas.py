"""The prompt canvas in a real browser: painting, undo, autosave, conflicts, offline, DICOM, queue.

Every test drives the UI with the mouse and keyboard and checks the outcome through the REST
API (what a model trained later will read), never through the page's own state.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image as PILImage
from playwright.sync_api import Browser, Page, expect

from labeling import services
from labeling.models import Image, Project
from tests.e2e.conftest import PASSWORD, TIMEOUT_MS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CT_SMALL = Path(pydicom.__file__).parent / "data" / "test_files" / "CT_small.dcm"


# ----- helpers -----------------------------------------------------------------------------


def gradient_png(width: int, height: int) -> bytes:
    """A grey gradient PNG (different sizes give different checksums)."""
    ramp = np.linspace(0, 255, width * height).reshape(height, width).astype(np.uint8)
    buffer = io.BytesIO()
    PILImage.fromarray(ramp, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def open_canvas(page: Page, image: Image, query: str = "") -> None:
    """Open the annotate page of ``image`` and wait until its prompt is loaded."""
    page.goto(f"/images/{image.pk}/annotate{query}")
    page.locator(".annotate[data-phase=ready]").wait_for()


def pixel_point(page: Page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of the centre of image pixel ``(x, y)`` under the current view."""
    canvas = page.locator("canvas.prompt-canvas")
    box = canvas.bounding_box()
    assert box is not None
    scale, tx, ty = (float(v) for v in (canvas.get_attribute("data-view") or "").split(","))
    return box["x"] + tx + (x + 0.5) * scale, box["y"] + ty + (y + 0.5) * scale


def set_brush(page: Page, size: int) -> None:
    """Step the brush with the [ and ] keys until it is ``size`` pixels wide."""
    output = page.get_by_test_id("brush-size")
    for _ in range(60):
        current = int(output.inner_text().removesuffix("px"))
        if current == size:
            return
        page.keyboard.press("[" if current > size else "]")
        expect(output).not_to_have_text(f"{current}px")
    raise AssertionError(f"brush size stuck at {output.inner_text()}")


def stroke(page: Page, *points: tuple[float, float]) -> None:
    """One stroke through the centres of image pixels ``points``."""
    page.mouse.move(*pixel_point(page, *points[0]))
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(*pixel_point(page, x, y), steps=8)
    page.mouse.up()


def wait_saved(page: Page, version: int) -> None:
    """Wait until the status shows the prompt saved at ``version``."""
    status = page.get_by_test_id("save-status")
    expect(status).to_have_attribute("data-version", str(version))
    expect(status).to_have_attribute("data-state", "saved")


def api_json(page: Page, path: str) -> dict:
    """GET an API path with the page's session cookie; asserts success."""
    response = page.request.get(f"/api/v1/{path}")
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response.json()


def my_prompt(page: Page, image: Image, target_class: str) -> dict:
    return api_json(page, f"images/{image.pk}/prompts/mine/?target_class={target_class}")


def prompt_mask(page: Page, prompt_id: int, version: int | None = None) -> np.ndarray:
    """A prompt's mask from the API's run-length form: int8 ``[H, W]`` in {-1, 0, 1}."""
    query = "format=rle" + (f"&version={version}" if version is not None else "")
    data = api_json(page, f"prompts/{prompt_id}/mask/?{query}")
    runs = [np.full(run, value, dtype=np.int8) for value, run in data["rle"]]
    return np.concatenate(runs).reshape(data["height"], data["width"])


def history(page: Page, prompt_id: int) -> list[dict]:
    data = api_json(page, f"prompts/{prompt_id}/history/?page_size=100")
    return data["results"] if isinstance(data, dict) else data


# ----- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def project(make_user: Callable[..., object]) -> Project:
    """A two-class project owned by ``olivia`` with the annotator ``ann``."""
    olivia = make_user("olivia")
    make_user("ann")
    project = services.project_create(
        name="Chest films", class_names=["normal", "pneumonia"], creator=olivia
    )
    services.member_add(project=project, username="ann", role="annotator")
    return project


def add_image(project: Project, name: str, data: bytes, **fields: object) -> Image:
    created = services.image_create(
        project=project, name=name, data=data, created_by=project.memberships.first().user, **fields
    )
    return created[0] if isinstance(created, list) else created


@pytest.fixture
def second_tab(browser: Browser, live_server: object) -> Iterator[Page]:
    """A second browser context: another tab or device of the same user."""
    url = live_server.url  # type: ignore[attr-defined]
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def image(project: Project) -> Image:
    return add_image(project, "film.png", gradient_png(64, 48), label="pneumonia", split="train")


# ----- tests -------------------------------------------------------------------------------


def test_painted_strokes_and_an_undo_reach_the_api_exactly(
    page: Page, login: Callable[..., None], image: Image
) -> None:
    login(page, "ann", PASSWORD)
    open_canvas(page, image)
    set_brush(page, 3)

    page.keyboard.press("1")
    stroke(page, (5, 10), (40, 10))
    page.keyboard.press("2")
    stroke(page, (5, 30), (40, 30))
    page.keyboard.press("1")
    stroke(page, (5, 20), (40, 20))
    page.keyboard.press("Control+z")  # takes back the whole third stroke
    wait_saved(page, 1)

    page.reload()
    page.locator(".annotate[data-phase=ready]").wait_for()
    prompt = my_prompt(page, image, "pneumonia")
    mask = prompt_mask(page, prompt["id"])
    assert mask.shape == (48, 64)
    # A 3-pixel brush covers the stroke's row and one row either side.
    assert mask[10, 5:41].tolist() == [1] * 36
    assert mask[9, 20] == 1 and mask[11, 20] == 1
    assert mask[12, 20] == -1 and mask[10, 45] == -1
    assert mask[30, 5:41].tolist() == [0] * 36
    assert (mask[18:23] == -1).all()  # the undone stroke left nothing
    assert prompt["counts"] == {
        "important": int((mask == 1).sum()),
        "unimportant": int((mask == 0).sum()),
        "unclear": int((mask == -1).sum()),
    }
    # The reloaded canvas shows the stored prompt.
    page.mouse.move(*pixel_point(page, 20, 10))
    expect(page.get_by_test_id("cursor")).to_contain_text("x 20, y 10 · important")


def test_fill_tools_write_whole_regions(
    page: Page, login: Callable[..., None], image: Image
) -> None:
    login(page, "ann", PASSWORD)
    open_canvas(page, image)
    page.keyboard.press("r")
    stroke(page, (2, 2), (9, 6))  # rectangle, corners included
    page.keyboard.press("2")
    page.keyboard.press("Shift+F")  # the rest becomes unimportant
    wait_saved(page, 1)

    mask = prompt_mask(page, my_prompt(page, image, "pneumonia")["id"])
    assert (mask[2:7, 2:10] == 1).all()
    assert int((mask == 1).sum()) == 8 * 5
    assert int((mask == -1).sum()) == 0


def test_two_tabs_see_the_conflict_and_both_versions_are_kept(
    page: Page, second_tab: Page, login: Callable[..., None], image: Image
) -> None:
    other = second_tab
    login(page, "ann", PASSWORD)
    login(other, "ann", PASSWORD)
    open_canvas(page, image)
    open_canvas(other, image)
    set_brush(page, 3)
    set_brush(other, 3)

    stroke(page, (5, 10), (40, 10))
    wait_saved(page, 1)
    stroke(other, (5, 30), (40, 30))  # drawn on the version this tab loaded (none)

    dialog = other.get_by_test_id("conflict-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Version 1 was saved by ann")
    expect(other.get_by_test_id("save-status")).to_have_attribute("data-state", "conflict")
    expect(other.get_by_test_id("take-theirs")).to_be_enabled()
    other.get_by_test_id("keep-mine").click()
    expect(dialog).to_be_hidden()
    wait_saved(other, 2)

    prompt = my_prompt(page, image, "pneumonia")
    versions = history(page, prompt["id"])
    by_status = sorted((v["status"], v["version"], v["based_on"]) for v in versions)
    assert by_status == [("accepted", 1, 0), ("accepted", 2, 1), ("conflict", None, 0)]
    first = prompt_mask(page, prompt["id"], version=1)
    kept = prompt_mask(page, prompt["id"], version=2)
    assert first[10, 20] == 1 and first[30, 20] == -1
    assert kept[30, 20] == 1 and kept[10, 20] == -1  # "keep mine" kept the second tab's drawing


def test_taking_the_other_version_shows_it_and_saves_nothing_new(
    page: Page, second_tab: Page, login: Callable[..., None], image: Image
) -> None:
    other = second_tab
    login(page, "ann", PASSWORD)
    login(other, "ann", PASSWORD)
    open_canvas(page, image)
    open_canvas(other, image)
    stroke(page, (5, 10), (40, 10))
    wait_saved(page, 1)
    stroke(other, (5, 30), (40, 30))
    other.get_by_test_id("take-theirs").click()
    expect(other.get_by_test_id("conflict-dialog")).to_be_hidden()
    wait_saved(other, 1)
    other.mouse.move(*pixel_point(other, 20, 10))
    expect(other.get_by_test_id("cursor")).to_contain_text("important")

    prompt = my_prompt(page, image, "pneumonia")
    assert prompt["version"] == 1
    assert sorted(v["status"] for v in history(page, prompt["id"])) == ["accepted", "conflict"]


def test_an_edit_made_offline_arrives_when_the_connection_returns(
    page: Page, login: Callable[..., None], image: Image
) -> None:
    login(page, "ann", PASSWORD)
    open_canvas(page, image)
    set_brush(page, 3)
    page.context.set_offline(True)
    stroke(page, (5, 10), (40, 10))
    status = page.get_by_test_id("save-status")
    expect(status).to_have_attribute("data-state", "offline")
    expect(status).to_contain_text("Offline")
    page.context.set_offline(False)
    wait_saved(page, 1)

    mask = prompt_mask(page, my_prompt(page, image, "pneumonia")["id"])
    assert mask[10, 5:41].tolist() == [1] * 36


def test_the_dicom_window_in_use_is_stored_with_the_prompt(
    page: Page, login: Callable[..., None], project: Project
) -> None:
    ct = add_image(project, "ct_small.dcm", CT_SMALL.read_bytes(), label="pneumonia")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    login(page, "ann", PASSWORD)
    open_canvas(page, ct)
    preset = page.get_by_test_id("window-preset")
    expect(preset).to_have_value("project")
    preset.select_option("bone")
    expect(page.get_by_test_id("window-center")).to_have_value("400")
    stroke(page, (40, 60), (90, 70))
    wait_saved(page, 1)

    prompt = my_prompt(page, ct, "pneumonia")
    assert (prompt["window_center"], prompt["window_width"]) == (400, 1800)
    assert prompt["counts"]["important"] > 0
    # This file is windowed in the browser from its original: no re-windowed renditions.
    assert any(url.endswith(f"/images/{ct.pk}/original/") for url in requested)
    assert not any("window_center=" in url and "/display/" in url for url in requested)
    # The window comes back with the prompt.
    page.reload()
    page.locator(".annotate[data-phase=ready]").wait_for()
    expect(page.get_by_test_id("window-preset")).to_have_value("bone")


def test_a_compressed_dicom_is_windowed_by_the_server(
    page: Page, login: Callable[..., None], project: Project
) -> None:
    rle = add_image(project, "mr_rle.dcm", (CT_SMALL.parent / "MR_small_RLE.dcm").read_bytes())
    login(page, "ann", PASSWORD)
    open_canvas(page, rle)
    with page.expect_response(lambda r: "window_center=400" in r.url and r.ok) as rendition:
        page.get_by_test_id("window-preset").select_option("bone")
    assert "window_width=1800" in rendition.value.url
    stroke(page, (10, 10), (40, 20))
    wait_saved(page, 1)
    prompt = my_prompt(page, rle, "pneumonia")
    assert (prompt["window_center"], prompt["window_width"]) == (400, 1800)


def test_next_saves_and_opens_the_next_image_without_my_prompt(
    page: Page, login: Callable[..., None], project: Project
) -> None:
    first = add_image(project, "a.png", gradient_png(20, 20), split="train")
    done = add_image(project, "b.png", gradient_png(21, 20), split="train")
    add_image(project, "c.png", gradient_png(22, 20), split="test")
    wanted = add_image(project, "d.png", gradient_png(23, 20), split="train")
    ann = project.memberships.get(user__username="ann").user
    blank = np.full((20, 21), -1, dtype=np.int8)
    services.prompt_save(
        image=done, annotator=ann, target_class="pneumonia", mask=blank, base_version=0
    )

    login(page, "ann", PASSWORD)
    open_canvas(page, first, "?split=train&unprompted=1")
    stroke(page, (2, 2), (15, 2))
    page.keyboard.press("n")  # at once: leaving the image saves the stroke
    expect(page).to_have_url(f"/images/{wanted.pk}/annotate?split=train&unprompted=1")
    assert my_prompt(page, first, "pneumonia")["counts"]["important"] > 0
    page.locator(".annotate[data-phase=ready]").wait_for()
    page.keyboard.press("p")
    expect(page).to_have_url(f"/images/{first.pk}/annotate?split=train&unprompted=1")


def test_the_help_overlay_lists_the_keys(
    page: Page, login: Callable[..., None], image: Image
) -> None:
    login(page, "ann", PASSWORD)
    open_canvas(page, image)
    page.keyboard.press("?")
    help_overlay = page.get_by_test_id("help-overlay")
    expect(help_overlay).to_be_visible()
    expect(help_overlay).to_contain_text("Undo (whole strokes)")
    expect(help_overlay).to_contain_text("Flood fill a connected region")
    page.keyboard.press("Escape")
    expect(help_overlay).to_be_hidden()


def test_the_ground_truth_overlay_is_offered_to_admins_not_annotators(
    page: Page, second_tab: Page, login: Callable[..., None], image: Image
) -> None:
    truth = np.zeros((48, 64), dtype=np.uint8)
    truth[10:30, 20:40] = 255
    buffer = io.BytesIO()
    PILImage.fromarray(truth, mode="L").save(buffer, format="PNG")
    services.explanation_set(image=image, png=buffer.getvalue())

    login(page, "olivia", PASSWORD)
    open_canvas(page, image)
    toggle = page.get_by_test_id("toggle-truth")
    expect(toggle).not_to_be_checked()
    page.keyboard.press("k")
    expect(toggle).to_be_checked()
    expect(page.locator(".overlay-error")).to_have_count(0)

    login(second_tab, "ann", PASSWORD)
    open_canvas(second_tab, image)
    expect(second_tab.get_by_test_id("toggle-prompt")).to_be_visible()
    expect(second_tab.get_by_test_id("toggle-truth")).to_have_count(0)
