"""Decode hostile cases in a child process under an address-space limit; print a JSON summary.

Usage: ``python tests/hostile/decode_worker.py {images|dicom} COUNT SEED MAX_MIB``. Every case
must end in ``ImageRejected`` or a decoded image; anything else is listed under ``failures``. The
per-case wall time and Python allocation peak (tracemalloc, which also sees numpy buffers) are
reported; the address-space limit (``resource.setrlimit``) turns a runaway allocation into a
``MemoryError`` that is reported as a failure rather than taking the machine down.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]


def main(suite: str, count: int, seed: int, max_mib: int) -> dict[str, object]:
    limit = max_mib * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from labeling.imaging import ImageRejected, decode_image
    from tests.hostile import cases

    generated = cases.image_cases(seed) if suite == "images" else cases.dicom_cases(count, seed)
    summary: dict[str, object] = {"cases": 0, "decoded": 0, "rejected": 0, "failures": []}
    slowest, peak_max = (0.0, ""), (0, "")
    tracemalloc.start()
    for case_id, name, data in generated:
        tracemalloc.reset_peak()
        started = time.perf_counter()
        try:
            decode_image(data, name, max_pixels=64 * 1024 * 1024)
            summary["decoded"] += 1
        except ImageRejected as exc:
            summary["rejected"] += 1
            if not str(exc):
                summary["failures"].append([case_id, "rejected without a reason"])
        except BaseException as exc:
            summary["failures"].append([case_id, f"{type(exc).__name__}: {exc}"[:300]])
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        slowest = max(slowest, (elapsed, case_id))
        peak_max = max(peak_max, (peak, case_id))
        summary["cases"] += 1
    summary["slowest_s"], summary["slowest_case"] = round(slowest[0], 3), slowest[1]
    summary["peak_mib"], summary["peak_case"] = round(peak_max[0] / 2**20, 1), peak_max[1]
    return summary


if __name__ == "__main__":
    suite, count, seed, max_mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(main(suite, count, seed, max_mib)))
