"""Experiment runs spread over worker processes (``manage.py experiment --workers N``)."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import torch

from modeling.ml.experiment.config import Config
from modeling.ml.experiment.runner import load_splits, log_to_stderr, run_method

# Relative run time of a method (DecoyDigits, quick preset: VAPL ~3.5x, RRR's double backward
# ~1.7x a CE-trained run): the longest runs start first so the workers finish together.
RELATIVE_COST = {"vapl": 3.5, "rrr": 1.7, "res-g": 1.1, "res-l": 1.1, "energy": 1.1}


def run_in_processes(
    root: Path,
    config: Config,
    tasks: Sequence[tuple[str, int]],
    workers: int,
    record: Callable[[tuple[str, int], dict[str, dict[str, Any]], float], None],
) -> None:
    """Runs ``tasks`` in ``workers`` spawned processes, the longest first."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    ordered = sorted(tasks, key=lambda task: -RELATIVE_COST.get(task[0], 1.0))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {
            pool.submit(run_task, str(root), config, method, seed, threads): (method, seed)
            for method, seed in ordered
        }
        for future in as_completed(futures):
            rows, seconds = future.result()
            record(futures[future], rows, seconds)


def run_task(
    root: str, config: Config, method: str, seed: int, threads: int
) -> tuple[dict[str, dict[str, Any]], float]:
    """One (method, seed) run in a worker process (logs to its stderr)."""
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    splits = load_splits(Path(root), config)
    rows = run_method(method, seed, splits, config, device="cpu", log=log_to_stderr)
    return rows, time.perf_counter() - t0
