"""Hostile image files end in a rejection with a reason, within time and memory bounds.

The bulk runs through ``labeling.imaging.decode_image`` in child processes under an address-space
limit (``decode_worker.py``). ``SIGHTLINE_FUZZ_CASES`` sets the number of mutated DICOM files
(default 2000, about a minute on two cores); ``SIGHTLINE_FUZZ_SEED`` the seed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("decode_worker.py")
MEMORY_LIMIT_MIB = 3072
CASE_SECONDS = 5.0
CASE_PEAK_MIB = 512
SEED = int(os.environ.get("SIGHTLINE_FUZZ_SEED", "0"))
DICOM_CASES = int(os.environ.get("SIGHTLINE_FUZZ_CASES", "2000"))


def _run(suite: str, count: int, seed: int) -> subprocess.Popen[str]:
    args = [sys.executable, str(WORKER), suite, str(count), str(seed), str(MEMORY_LIMIT_MIB)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _summary(process: subprocess.Popen[str]) -> dict:
    stdout, stderr = process.communicate(timeout=900)
    assert process.returncode == 0, stderr[-2000:]
    return json.loads(stdout)


def _assert_bounded(summary: dict) -> None:
    assert summary["failures"] == []
    assert summary["slowest_s"] < CASE_SECONDS, summary["slowest_case"]
    assert summary["peak_mib"] < CASE_PEAK_MIB, summary["peak_case"]


def test_bombs_truncated_and_random_images_are_rejected_with_a_reason() -> None:
    summary = _summary(_run("images", 0, SEED))
    _assert_bounded(summary)
    # Only the PNG saved under a .jpg name (decoded by content) and nothing else may decode.
    assert summary["decoded"] <= 2
    assert summary["rejected"] == summary["cases"] - summary["decoded"]


@pytest.mark.slow
def test_mutated_dicom_files_never_escape_as_an_unexpected_error() -> None:
    # Two children, one per core, each with its own seed.
    half = DICOM_CASES // 2
    processes = [_run("dicom", half, SEED), _run("dicom", DICOM_CASES - half, SEED + 1)]
    summaries = [_summary(process) for process in processes]
    for summary in summaries:
        _assert_bounded(summary)
    assert sum(s["cases"] for s in summaries) == DICOM_CASES
    assert sum(s["rejected"] for s in summaries) > DICOM_CASES // 4
