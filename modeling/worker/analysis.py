"""Jobs on a registered model version: refine prompts, explain images, evaluate on a split.

Stored maps are 8-bit PNGs at the image's own resolution: the map is computed at the model's
input size, min-max normalised per image (eps 1e-6; refined prompts are already in [0, 1]),
then resized bilinearly (``align_corners=False``) and quantised to ``round(255 * m)``.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from labeling.models import AttentionPrompt, Image
from labeling.services.review import image_predictions_record
from modeling.ml.explain import normalize_minmax
from modeling.ml.training import evaluate, make_loader
from modeling.models import Job, Method, ModelVersion
from modeling.services.artifacts import explanation_map_save, refined_prompt_save
from modeling.services.versions import model_version_metrics_update
from modeling.worker.common import JobError
from modeling.worker.dataset import RESIZE_RULE, Item, load_items, map_to_png
from modeling.worker.loading import load_version
from modeling.worker.reporter import JobReporter

logger = logging.getLogger(__name__)

BATCH = 32


def _version(job: Job) -> ModelVersion:
    if job.model_version is None:
        raise JobError("the model version of this job was deleted")
    return job.model_version


def _split_items(job: Job, split: str | None, image_ids: list[int] | None) -> list[Item]:
    images = Image.objects.filter(project_id=job.project_id)
    if image_ids:
        images = images.filter(pk__in=image_ids)
    elif split:
        images = images.filter(split=split)
    rows = list(images.order_by("pk").values_list("pk", "label"))
    # The most recently updated saved prompt of each image (any annotator).
    prompts: dict[int, int] = {}
    current = AttentionPrompt.objects.filter(
        image_id__in=[pk for pk, _ in rows], current_version__gt=0, current__isnull=False
    ).order_by("image_id", "-updated_at", "-pk")
    for image_id, version_id in current.values_list("image_id", "current_id"):
        prompts.setdefault(image_id, version_id)
    return [Item(pk, label, prompts.get(pk)) for pk, label in rows]


def run_explain(*, job: Job, reporter: JobReporter, device: torch.device, resume: bool) -> dict:
    """Grad-CAM (and RISE on request) maps for a split or a selection of images."""
    params = job.parameters
    version = _version(job)
    loaded = load_version(version, device)
    items = _split_items(job, params.get("split"), params.get("image_ids"))
    if not items:
        raise JobError("no images to explain: the split or selection is empty")
    data = load_items(
        items,
        class_names=loaded.class_names,
        size=loaded.input_size,
        channels=loaded.channels,
        with_gt=False,
    )
    methods = params["methods"]
    layer = params.get("layer", "layer4")
    stored = 0
    total = len(data.items)
    for start in range(0, total, BATCH):
        reporter.check()
        rows = range(start, min(start + BATCH, total))
        x = torch.stack([data.dataset[i]["image"] for i in rows]).to(device)
        with torch.no_grad():
            probabilities = loaded.probabilities(x)
        predicted = probabilities.argmax(1)
        # Stored per image for the review, selections and studies (labeling.ImagePrediction).
        image_predictions_record(
            model_version=version,
            probabilities=[
                (data.items[i].image_id, dict(zip(loaded.class_names, p.tolist(), strict=True)))
                for i, p in zip(rows, probabilities.cpu(), strict=True)
            ],
        )
        labels = [data.items[i].label for i in rows]
        index = {name: k for k, name in enumerate(loaded.class_names)}
        target = torch.tensor(
            [
                index.get(lab, int(p)) if lab else int(p)
                for lab, p in zip(labels, predicted.tolist(), strict=True)
            ],
            device=device,
        )
        outputs: dict[str, torch.Tensor] = {}
        if "gradcam" in methods:
            outputs["gradcam"] = normalize_minmax(loaded.gradcam(x, target, layer=layer))
        if "rise" in methods:
            from modeling.ml.explain.rise import rise

            reporter.check()
            outputs["rise"] = normalize_minmax(
                rise(
                    loaded.f_o,
                    x,
                    target,
                    n_masks=int(params["rise_masks"]),
                    batch_size=BATCH,
                    seed=int(params["seed"]),
                )
            )
        for method, maps in outputs.items():
            definition = _definition(method, layer, params, loaded.input_size)
            for offset, i in enumerate(rows):
                item = data.items[i]
                explanation_map_save(
                    model_version=version,
                    image_id=item.image_id,
                    method=method,
                    target_class=loaded.class_names[int(target[offset])],
                    png=map_to_png(maps[offset], data.sizes[i]),
                    definition=definition,
                    job=job,
                )
                stored += 1
        done = rows.stop
        reporter.progress(done / total, step=done, total=total, message=f"{done}/{total} images")
    reporter.log(f"stored {stored} maps for {total} images")
    return {"images": total, "maps": stored, "methods": methods}


def _definition(method: str, layer: str, params: dict[str, Any], size: int) -> dict[str, Any]:
    base = {
        "method": method,
        "target": "the image's label, else the predicted class",
        "normalisation": "per-image min-max, eps 1e-6",
        "resize": f"computed at {size}x{size}, bilinear to the image size, align_corners=False",
        "quantisation": "round(255 * m), 8-bit PNG",
        "input": RESIZE_RULE,
    }
    if method == "gradcam":
        base["layer"] = layer
    else:
        base.update({"n_masks": params["rise_masks"], "seed": params["seed"], "grid": 7, "p1": 0.5})
    return base


def run_refine(*, job: Job, reporter: JobReporter, device: torch.device, resume: bool) -> dict:
    """Refined prompts ``t(D)`` of the chosen prompts with a VAPL model version."""
    params = job.parameters
    version = _version(job)
    if version.method != Method.VAPL:
        raise JobError("prompt refinement needs a VAPL model version")
    loaded = load_version(version, device)
    prompts = AttentionPrompt.objects.filter(
        image__project_id=job.project_id, current_version__gt=0, current__isnull=False
    )
    if params.get("prompt_ids"):
        prompts = prompts.filter(pk__in=params["prompt_ids"])
    if params.get("split"):
        prompts = prompts.filter(image__split=params["split"])
    rows = list(prompts.order_by("pk").values_list("image_id", "current_id", "target_class"))
    if not rows:
        raise JobError("no saved prompts to refine")
    items = [Item(image_id, target, version_id) for image_id, version_id, target in rows]
    data = load_items(
        items,
        class_names=loaded.class_names,
        size=loaded.input_size,
        channels=loaded.channels,
        with_gt=False,
    )
    vapl = loaded.vapl
    config = vapl.config.with_changes(
        n_masks=int(params["n_masks"]),
        p=float(params["p"]),
        style=params["style"],
        mask_seed=int(params["seed"]),
    )
    vapl.config = config
    index = {name: k for k, name in enumerate(loaded.class_names)}
    total = len(data.items)
    for i in range(total):
        reporter.check()
        item = data.dataset[i]
        label = index.get(data.items[i].label)
        refined = vapl.refine(
            item["image"][None].to(device),
            item["prompt"][None].to(device),
            None if label is None else torch.tensor([label], device=device),
        )
        refined_prompt_save(
            model_version=version,
            prompt_version_id=data.items[i].prompt_version_id,
            png=map_to_png(refined[0], data.sizes[i]),
            definition={
                "method": "VAPL t(D), self-normalised estimator (METHODS.md section 4)",
                "n_masks": config.n_masks,
                "p": config.p,
                "style": config.style,
                "grid": config.grid,
                "seed": config.mask_seed,
                "g": "learned" if config.learns_g else "identity",
                "rescale": config.rescale,
                "target": "the prompt's target class",
                "resize": f"computed at {loaded.input_size}px, bilinear to the image size",
                "quantisation": "round(255 * A), 8-bit PNG",
            },
            job=job,
        )
        reporter.progress(
            (i + 1) / total, step=i + 1, total=total, message=f"{i + 1}/{total} prompts"
        )
    reporter.log(f"refined {total} prompts with N={config.n_masks}, p={config.p}, {config.style}")
    return {"prompts": total, "n_masks": config.n_masks}


def run_evaluate(*, job: Job, reporter: JobReporter, device: torch.device, resume: bool) -> dict:
    """The metrics of METHODS.md section 5 for a model version on a split (stored with it)."""
    params = job.parameters
    version = _version(job)
    loaded = load_version(version, device)
    split = params["split"]
    items = [i for i in _split_items(job, split, None) if i.label in loaded.class_names]
    if not items:
        raise JobError(f"no labelled images in the {split} split")
    data = load_items(
        items, class_names=loaded.class_names, size=loaded.input_size, channels=loaded.channels
    )
    loader = make_loader(data.dataset, batch_size=BATCH)
    layer = params.get("layer", "layer4")
    positive = None
    if len(loaded.class_names) == 2 and job.project.positive_class in loaded.class_names:
        positive = loaded.class_names.index(job.project.positive_class)

    def predict(batch: dict[str, Any]) -> torch.Tensor:
        reporter.check()
        return loaded.probabilities(batch["image"])

    def explain(batch: dict[str, Any]) -> torch.Tensor:
        reporter.check()
        return loaded.gradcam(batch["image"], batch["label"], layer=layer)

    reporter.progress(0.1, message=f"evaluating on {len(items)} images", force=True)
    metrics = evaluate(predict, explain, loader, device=device, positive_class=positive)
    metrics["n"] = len(items)
    if loaded.vapl is not None and bool(data.dataset.has_prompt.any()):
        vapl = loaded.vapl

        def predict_prompted(batch: dict[str, Any]) -> torch.Tensor:
            reporter.check()
            return vapl.predict_proba(
                batch["image"], batch["prompt"], has_prompt=batch["has_prompt"]
            )

        prompted = evaluate(predict_prompted, None, loader, device=device, positive_class=positive)
        metrics["prompted"] = prompted
    metrics["definition"] = {
        "explanations": f"Grad-CAM at {layer} of f_o for the label, against the ground truth "
        "where present, else the prompt's important region; min-max, threshold 0.5",
        "positive_class": job.project.positive_class if positive is not None else None,
    }
    model_version_metrics_update(version_id=version.pk, split=split, metrics=metrics)
    reporter.log(
        f"{split}: accuracy {metrics.get('accuracy', float('nan')):.3f} on {len(items)} images"
    )
    return {"split": split, "metrics": metrics}
