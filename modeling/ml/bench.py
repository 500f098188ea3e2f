"""Speed figures of VAPL's refinement and of explanation-guided training steps.

Run ``python -m modeling.ml.bench`` (CPU-friendly defaults, about 1-2 minutes on a CPU) or
``python -m modeling.ml.bench --full`` on a GPU (224 x 224 inputs, N = 5000). Every figure is
measured on the current device and printed as a table:

* refinement throughput: masked images per second of
  :func:`modeling.ml.vapl.refine` (label given, so exactly ``N`` forwards per image) against bare
  forward passes of the same count and batch size, same layout and autocast (goal >= 85%);
* batched refinement against a per-mask reference loop (one masked image per forward);
* a guided training step (GRADIA loss on Grad-CAM at ``layer4`` and at ``layer3``, differentiable
  maps) against a plain cross-entropy step, both through
  :func:`modeling.ml.training.guided_step` (goals <= 1.2x and <= 1.6x);
* on CUDA: bfloat16 autocast and channels-last variants of the refinement, and the time per
  image of ``N = 5000`` refinement at 224 x 224 with ResNet-18 (goal <= 150 ms on an H100).

Timings are medians over ``--repeats`` runs after one warm-up run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from modeling.ml.backbones import BackboneConfig, Classifier, build_classifier
from modeling.ml.losses import build_loss
from modeling.ml.training import MapSource, guided_step
from modeling.ml.vapl.masks import MaskSet
from modeling.ml.vapl.refinement import refine


@dataclass(frozen=True)
class Settings:
    """What one benchmark run measures."""

    device: torch.device
    size: int
    n_masks: int
    images: int
    chunk: int
    train_batch: int
    repeats: int
    reference_masks: int
    full: bool


@dataclass(frozen=True)
class Row:
    """One line of the result table."""

    name: str
    value: float
    unit: str
    goal: str = ""


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _median_seconds(fn: Callable[[], object], device: torch.device, repeats: int) -> float:
    fn()  # warm-up: allocator, cuDNN autotuning, lazy initialisation
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _paired_seconds(
    first: Callable[[], object], second: Callable[[], object], device: torch.device, repeats: int
) -> tuple[float, float]:
    """Medians of two workloads measured alternately, so that load changes on a shared machine
    hit both alike."""
    first()
    second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, bucket in ((first, times[0]), (second, times[1])):
            _sync(device)
            start = time.perf_counter()
            fn()
            _sync(device)
            bucket.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def _classifier(settings: Settings, *, channels_last: bool = False) -> Classifier:
    torch.manual_seed(0)
    config = BackboneConfig(num_classes=10, small_input=settings.size <= 64)
    model = build_classifier(config).to(settings.device).eval()
    return model.to(memory_format=torch.channels_last) if channels_last else model


def _inputs(settings: Settings, batch: int) -> tuple[Tensor, Tensor, Tensor]:
    """Images, boundary-style prompts (important centre, unclear band, unimportant rest), labels."""
    generator = torch.Generator().manual_seed(0)
    size = settings.size
    x = torch.rand(batch, 3, size, size, generator=generator)
    prompt = torch.zeros(batch, 1, size, size)
    band, core = size // 8, size // 4
    prompt[:, :, band : size - band, band : size - band] = -1
    prompt[:, :, core : size - core, core : size - core] = 1
    labels = torch.arange(batch) % 10
    device = settings.device
    return x.to(device), prompt.to(device), labels.to(device)


def _bare_forwards(
    model: Classifier, x: Tensor, n_masks: int, chunk: int, autocast: bool, channels_last: bool
) -> Callable[[], None]:
    """``N * B`` forwards in the batches :func:`refine` uses, on one preallocated input."""
    batch = x.shape[0]
    per_chunk = max(1, chunk // batch)
    source = x.repeat(per_chunk, 1, 1, 1)
    if channels_last:
        source = source.contiguous(memory_format=torch.channels_last)
    sizes = [min(per_chunk, n_masks - s) * batch for s in range(0, n_masks, per_chunk)]

    @torch.inference_mode()
    def run() -> None:
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=autocast):
            for n in sizes:
                model(source[:n])

    return run


def _refinement(
    model: Classifier,
    x: Tensor,
    prompt: Tensor,
    labels: Tensor,
    settings: Settings,
    *,
    n_masks: int,
    autocast: bool,
    channels_last: bool,
) -> Callable[[], Tensor]:
    def run() -> Tensor:
        return refine(
            model,
            x,
            prompt,
            n_masks=n_masks,
            label=labels,
            chunk=settings.chunk,
            autocast=autocast,
            channels_last=channels_last,
        )

    return run


def refinement_rows(
    settings: Settings, *, autocast: bool, channels_last: bool, tag: str
) -> list[Row]:
    """Refinement throughput against bare forwards of the same count and batch size."""
    model = _classifier(settings, channels_last=channels_last)
    x, prompt, labels = _inputs(settings, settings.images)
    n, device, repeats = settings.n_masks, settings.device, settings.repeats
    bare, refined = _paired_seconds(
        _bare_forwards(model, x, n, settings.chunk, autocast, channels_last),
        _refinement(
            model, x, prompt, labels, settings, n_masks=n, autocast=autocast,
            channels_last=channels_last,
        ),
        device,
        repeats,
    )  # fmt: skip
    count = n * settings.images
    return [
        Row(f"bare forward {tag}", count / bare, "img/s"),
        Row(f"refinement {tag}", count / refined, "img/s"),
        Row(f"refinement / bare {tag}", 100.0 * bare / refined, "%", ">= 85"),
    ]


def reference_rows(settings: Settings) -> list[Row]:
    """Batched refinement against one forward per masked image (time per mask and image)."""
    model = _classifier(settings)
    x, prompt, labels = _inputs(settings, 1)
    n = settings.reference_masks
    masks = MaskSet(n, (settings.size, settings.size))
    important, unclear = (prompt == 1).float(), (prompt == -1).float()

    @torch.inference_mode()
    def loop() -> None:
        for _, fields in masks.chunks(n, settings.device):
            for j in range(fields.shape[0]):
                model(x * (important + unclear * fields[j : j + 1])).softmax(1)[0, labels[0]]

    on_cuda = settings.device.type == "cuda"
    looped, batched = _paired_seconds(
        loop,
        _refinement(
            model, x, prompt, labels, settings, n_masks=n, autocast=on_cuda,
            channels_last=on_cuda,
        ),
        settings.device,
        settings.repeats,
    )  # fmt: skip
    return [
        Row("per-mask loop", 1e3 * looped / n, "ms/mask"),
        Row("batched refinement", 1e3 * batched / n, "ms/mask"),
        Row("batched speed-up", looped / batched, "x"),
    ]


def training_rows(settings: Settings) -> list[Row]:
    """Guided step (GRADIA on differentiable Grad-CAM) against a plain cross-entropy step."""
    x, prompt, labels = _inputs(settings, settings.train_batch)
    batch = {"image": x, "prompt": prompt, "label": labels}
    model = _classifier(settings).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    device, repeats = settings.device, settings.repeats

    def step(method: str, layer: str) -> Callable[[], object]:
        loss_fn = build_loss(method).to(device)
        source = MapSource("gradcam", layer=layer)
        return lambda: guided_step(
            model, batch, loss_fn=loss_fn, map_source=source, lam=1.0, optimizer=optimizer
        )

    rows = []
    for layer, goal in (("layer4", "<= 1.2"), ("layer3", "<= 1.6")):
        plain, guided = _paired_seconds(
            step("baseline", layer), step("gradia", layer), device, repeats
        )
        rows += [
            Row(f"plain step (paired with @{layer})", 1e3 * plain, "ms"),
            Row(f"guided step Grad-CAM@{layer}", 1e3 * guided, "ms"),
            Row(f"guided / plain @{layer}", guided / plain, "x", goal),
        ]
    return rows


def per_image_rows(settings: Settings) -> list[Row]:
    """Time per image of N = 5000 refinement at 224 x 224 (ResNet-18, bf16, channels-last)."""
    full = Settings(**{**settings.__dict__, "size": 224, "n_masks": 5000})
    model = _classifier(full, channels_last=True)
    x, prompt, labels = _inputs(full, full.images)
    seconds = _median_seconds(
        _refinement(
            model, x, prompt, labels, full, n_masks=5000, autocast=True, channels_last=True
        ),
        full.device,
        max(1, full.repeats - 1),
    )
    return [Row("N=5000 refinement at 224x224", 1e3 * seconds / full.images, "ms/img", "<= 150")]


def run(settings: Settings) -> list[Row]:
    """Every figure for ``settings`` (CUDA-only rows on CUDA)."""
    on_cuda = settings.device.type == "cuda"
    rows = refinement_rows(settings, autocast=on_cuda, channels_last=on_cuda, tag="(default)")
    if on_cuda:
        rows += refinement_rows(settings, autocast=False, channels_last=False, tag="(fp32 NCHW)")
        rows += refinement_rows(settings, autocast=True, channels_last=False, tag="(bf16 NCHW)")
        rows += refinement_rows(settings, autocast=False, channels_last=True, tag="(fp32 NHWC)")
    else:
        small = Settings(**{**settings.__dict__, "n_masks": max(16, settings.n_masks // 4)})
        rows += refinement_rows(small, autocast=False, channels_last=True, tag="(NHWC, N/4)")
        rows += refinement_rows(small, autocast=False, channels_last=False, tag="(NCHW, N/4)")
    rows += reference_rows(settings)
    rows += training_rows(settings)
    if on_cuda:
        rows += per_image_rows(settings)
    return rows


def _print(settings: Settings, rows: list[Row]) -> None:
    name = torch.cuda.get_device_name(settings.device) if settings.device.type == "cuda" else ""
    side = settings.size
    print(
        f"device {settings.device} {name} | torch {torch.__version__} | threads "
        f"{torch.get_num_threads()} | {side}x{side} ResNet-18 | N={settings.n_masks} x "
        f"{settings.images} images, chunk {settings.chunk} | train batch {settings.train_batch}"
    )
    width = max(len(r.name) for r in rows) + 2
    print(f"{'measure':<{width}}{'value':>12}  {'unit':<8}goal")
    for row in rows:
        value = f"{row.value:.1f}" if abs(row.value) >= 10 else f"{row.value:.3f}"
        print(f"{row.name:<{width}}{value:>12}  {row.unit:<8}{row.goal}")


def parse_settings(argv: list[str] | None = None) -> Settings:
    """Command-line options -> :class:`Settings` (``--full``: GPU-size defaults)."""
    parser = argparse.ArgumentParser(prog="python -m modeling.ml.bench", description=__doc__)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", type=int, help="input side (default 32, --full 224)")
    parser.add_argument("--n", type=int, help="masks per image (default 64, --full 5000)")
    parser.add_argument("--images", type=int, help="images refined together (default 2, --full 8)")
    parser.add_argument("--chunk", type=int, help="masked images per forward (default 256)")
    parser.add_argument("--train-batch", type=int, help="training batch (default 16, --full 32)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch intra-op threads")
    parser.add_argument("--full", action="store_true", help="GPU-size run")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    full = args.full
    n_masks = args.n or (5000 if full else 64)
    return Settings(
        device=torch.device(args.device),
        size=args.size or (224 if full else 32),
        n_masks=n_masks,
        images=args.images or (8 if full else 2),
        chunk=args.chunk or (512 if full else 256),
        train_batch=args.train_batch or (32 if full else 16),
        repeats=max(1, args.repeats),
        reference_masks=min(n_masks, 256 if full else 16),
        full=full,
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point: measure and print the table."""
    settings = parse_settings(argv)
    _print(settings, run(settings))


if __name__ == "__main__":
    main()
