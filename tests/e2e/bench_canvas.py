"""Browser measurements of the prompt canvas (a benchmark that prints figures, not a test).

Serves a throw-away Sightline (temporary SQLite database and media) in a thread, opens the
annotate page in Debian's headless Chromium with ``?perf`` (User Timing measures, see
``frontend/src/canvas/editor.ts``), paints strokes with the mouse on 1024x1024 and 2048x2048
images, and prints:

- per pointer sample: the time to rasterise it into the mask (``canvas:paint``);
- per frame: the work of recolouring the dirty rectangle and compositing (``canvas:render``) and
  the latency from the first unshown sample to the end of the frame showing it (``canvas:frame``);
- whole-mask operations (fill the rest, undo, redo, clear, flood fill) on 2048x2048;
- the bytes each autosave sent, against the raw mask and the API's RLE JSON.

Run from the repository root after ``make frontend``:

    .venv/bin/python tests/e2e/bench_canvas.py

Headless Chromium runs with ``--disable-gpu`` here (software compositing), so the figures are an
upper bound of what a desktop browser with GPU rasterisation needs.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ["SIGHTLINE_DATA_DIR"] = tempfile.mkdtemp(prefix="sightline-bench-")
os.environ.pop("DATABASE_URL", None)  # never touch a real database
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sightline.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-secret-key")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import logging  # noqa: E402
import warnings  # noqa: E402

import django  # noqa: E402

django.setup()
logging.disable(logging.WARNING)  # request logs would drown the figures
warnings.filterwarnings("ignore", message="No directory at")  # no collected static files here

import numpy as np  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test.testcases import LiveServerThread  # noqa: E402
from PIL import Image as PILImage  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from labeling import services  # noqa: E402

PASSWORD = "benchmark-password"
CHROMIUM = "/usr/bin/chromium"


def textured_png(size: int) -> bytes:
    """A photo-like RGB test card: smooth gradients plus fine noise (realistic PNG decode cost)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size] / size
    rgb = np.stack([x, y, 0.5 + 0.5 * np.sin(12 * x * y)], axis=-1) * 200
    rgb += rng.normal(0, 12, rgb.shape)
    buffer = io.BytesIO()
    PILImage.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def make_data() -> dict[int, int]:
    """Users, a project and one image per size; returns {size: image id}."""
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user(username="bench", password=PASSWORD)
    project = services.project_create(name="Bench", class_names=["a", "b"], creator=user)
    ids = {}
    for size in (1024, 2048):
        created = services.image_create(
            project=project, name=f"card-{size}.png", data=textured_png(size), created_by=user
        )
        ids[size] = (created[0] if isinstance(created, list) else created).pk
    return ids


def summary(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):6.2f}  p95 {p95:6.2f}  max {ordered[-1]:6.2f}"


def measures(page: Page, name: str) -> list[dict]:
    script = "n => performance.getEntriesByName(n).map(e => ({d: e.duration, detail: e.detail}))"
    return page.evaluate(script, name)


def pixel_point(page: Page, x: float, y: float) -> tuple[float, float]:
    canvas = page.locator("canvas.prompt-canvas")
    box = canvas.bounding_box()
    scale, tx, ty = (float(v) for v in canvas.get_attribute("data-view").split(","))
    return box["x"] + tx + (x + 0.5) * scale, box["y"] + ty + (y + 0.5) * scale


def zigzag_stroke(page: Page, size: int, row: float, samples: int) -> None:
    """One stroke of ``samples`` pointer moves zig-zagging across the image."""
    page.mouse.move(*pixel_point(page, size * 0.05, row))
    page.mouse.down()
    for k in range(1, samples + 1):
        x = size * (0.05 + 0.9 * k / samples)
        y = row + (size * 0.04 if k % 2 else -size * 0.04)
        page.mouse.move(*pixel_point(page, x, y))
    page.mouse.up()


def set_brush(page: Page, size: int) -> None:
    output = page.get_by_test_id("brush-size")
    for _ in range(200):
        current = int(output.inner_text().removesuffix("px"))
        if current == size or (current > size and current - 1 < size):
            return
        page.keyboard.press("[" if current > size else "]")
        page.wait_for_function(
            "([el, before]) => el.textContent !== before",
            arg=[output.element_handle(), f"{current}px"],
        )


def bench_strokes(page: Page, base: str, image_id: int, size: int) -> None:
    page.goto(f"{base}/images/{image_id}/annotate?perf=1")
    page.locator(".annotate[data-phase=ready]").wait_for()
    scale = float(page.locator("canvas.prompt-canvas").get_attribute("data-view").split(",")[0])
    print(f"\n{size}x{size} image, viewport 1440x900, view scale {scale:.3f}")
    for brush in (8, 32, 128):
        set_brush(page, brush)
        page.evaluate("performance.clearMeasures()")
        zigzag_stroke(page, size, size * (0.2 + 0.25 * (brush.bit_length() - 4) / 3), samples=120)
        page.wait_for_timeout(100)
        paint = [m["d"] for m in measures(page, "canvas:paint")]
        render = [m["d"] for m in measures(page, "canvas:render")]
        frame = [m["d"] for m in measures(page, "canvas:frame")]
        actual = page.get_by_test_id("brush-size").inner_text()
        print(f"  brush {actual:>6}  samples {len(paint):4d}")
        print(f"    paint  (rasterise one sample)    ms: {summary(paint)}")
        print(f"    render (recolour + composite)    ms: {summary(render)}")
        print(f"    frame  (sample -> frame shown)   ms: {summary(frame)}")
    page.get_by_test_id("save-status").and_(page.locator("[data-state=saved]")).wait_for()
    saves = page.evaluate("performance.getEntriesByName('canvas:save').map(e => e.detail)")
    last = saves[-1]
    print(
        f"  autosaves: {len(saves)}; last sent {last['bytes']} bytes of PNG "
        f"(raw mask {size * size} bytes), round trip {last['ms']:.0f} ms"
    )
    prompt = page.request.get(f"{base}/api/v1/images/{image_id}/prompts/mine/").json()
    rle = page.request.get(f"{base}/api/v1/prompts/{prompt['id']}/mask/?format=rle").body()
    print(f"  the same prompt as RLE JSON: {len(rle)} bytes (per-pixel JSON: ~{3 * size**2} bytes)")


def bench_operations(page: Page, base: str, image_id: int, size: int) -> None:
    page.goto(f"{base}/images/{image_id}/annotate?perf=1")
    page.locator(".annotate[data-phase=ready]").wait_for()
    page.evaluate("performance.clearMeasures()")
    page.keyboard.press("2")
    for key in ("Shift+F", "Control+z", "Control+Shift+Z", "Shift+Delete", "Control+z"):
        page.keyboard.press(key)
        page.wait_for_timeout(150)
    page.keyboard.press("f")
    page.mouse.click(*pixel_point(page, size / 2, size / 2))
    page.wait_for_timeout(150)
    print(f"\nwhole-mask operations on {size}x{size} (main thread; the next frame recolours):")
    for m in measures(page, "canvas:op"):
        print(f"  {m['detail']:<11} {m['d']:7.2f} ms")
    render = [m["d"] for m in measures(page, "canvas:render")]
    print(f"  frames after them: render ms {summary(render)}")
    page.get_by_test_id("save-status").and_(page.locator("[data-state=saved]")).wait_for()
    saves = page.evaluate("performance.getEntriesByName('canvas:save').map(e => e.detail.bytes)")
    print(f"  autosave sizes (bytes): {saves}")


def main() -> None:
    ids = make_data()
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://127.0.0.1:{server.port}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
        page.set_default_timeout(30_000)
        print(f"Chromium {browser.version}, headless, software compositing")
        page.goto(f"{base}/login")
        page.get_by_label("Username").fill("bench")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_test_id("current-user").wait_for()
        for size in (1024, 2048):
            bench_strokes(page, base, ids[size], size)
        bench_operations(page, base, ids[2048], 2048)
        browser.close()
    server.terminate()


if __name__ == "__main__":
    main()
