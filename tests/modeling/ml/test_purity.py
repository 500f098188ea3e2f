"""modeling.ml stays pure PyTorch: importing all of it loads no Django, DRF or Celery."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import importlib, json, pkgutil, sys
import modeling.ml
names = ["modeling.ml"] + [
    info.name for info in pkgutil.walk_packages(modeling.ml.__path__, "modeling.ml.")
]
for name in names:
    importlib.import_module(name)
forbidden = [m for m in ("django", "rest_framework", "celery") if m in sys.modules]
print(json.dumps({"modules": names, "forbidden": forbidden}))
"""


def test_importing_every_module_of_modeling_ml_loads_no_web_framework() -> None:
    env = {"PYTHONPATH": f"{ROOT}{':'}{ROOT / 'platform'}", "PATH": "/usr/bin:/bin"}
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "modeling.ml.backbones" in report["modules"]
    assert "modeling.ml.explain.gradcam" in report["modules"]
    assert report["forbidden"] == []
