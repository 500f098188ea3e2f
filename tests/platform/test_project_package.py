"""The project package lives in platform/ without shadowing the standard-library ``platform``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _python(code: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with the repository's import paths."""
    environment = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'platform'}"}
    for key, value in env.items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.smoke
def test_platform_is_the_standard_library_inside_django() -> None:
    import platform

    assert callable(platform.system)
    assert Path(platform.__file__).parent != ROOT / "platform"


def test_the_platform_folder_is_not_a_package() -> None:
    assert (ROOT / "platform" / "sightline").is_dir()
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_the_web_process_does_not_import_torch() -> None:
    result = _python(
        "import sys, sightline.wsgi, django.urls; django.urls.resolve('/api/v1/projects/');"
        "print('torch' in sys.modules)",
        DJANGO_SECRET_KEY="x",
        SIGHTLINE_ENV_FILE=os.devnull,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_settings_need_a_secret_key_when_debug_is_off() -> None:
    result = _python(
        "import django; django.setup()",
        DJANGO_SETTINGS_MODULE="sightline.settings",
        DJANGO_SECRET_KEY=None,
        DJANGO_SECRET_KEY_FILE=None,
        DJANGO_DEBUG="0",
        SIGHTLINE_ENV_FILE=os.devnull,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr
