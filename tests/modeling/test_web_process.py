"""The web process never imports torch: models run in workers only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
import django
django.setup()
from django.urls import resolve, reverse
import sightline.urls, sightline.wsgi  # noqa: F401
import modeling.apis, modeling.services, modeling.selectors, modeling.tasks, modeling.admin  # noqa
from modeling.services.jobs import job_enqueue  # noqa: F401
resolve(reverse("modeling:job-list"))
loaded = sorted(name for name in sys.modules if name == "torch" or name.startswith("torch."))
print("TORCH", len(loaded))
"""


def test_the_web_process_never_imports_torch() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sightline.settings",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'platform'}",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "test-only"),
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "TORCH 0" in result.stdout
