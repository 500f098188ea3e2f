"""Loading a registered model version in a worker, whatever its method.

A version's checkpoint is read from storage into a temporary file and loaded with the modeling
core's safetensors loaders (nothing is unpickled). ``LoadedVersion`` gives one interface over a
plain classifier and VAPL's two streams: ``f_o`` is the image-only classifier (the only one for
non-VAPL methods) and ``vapl`` is set for VAPL versions.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from modeling.ml.backbones import Classifier, build_classifier
from modeling.ml.checkpoints import load_checkpoint
from modeling.ml.explain import grad_cam
from modeling.models import Method, ModelVersion
from modeling.services.artifacts import artifact_read


@dataclass
class LoadedVersion:
    """A model version ready for inference on ``device``."""

    version_id: int
    method: str
    class_names: list[str]
    preprocessing: dict[str, Any]
    f_o: Classifier
    vapl: Any | None
    device: torch.device

    @property
    def input_size(self) -> int:
        return int(self.preprocessing.get("input_size", 224))

    @property
    def channels(self) -> int:
        return int(self.preprocessing.get("channels", self.f_o.config.in_channels))

    @torch.no_grad()
    def probabilities(self, x: Tensor) -> Tensor:
        """``softmax f_o(x)`` [B, K]."""
        return torch.softmax(self.f_o(x.to(self.device)).float(), dim=1)

    def gradcam(self, x: Tensor, target: Tensor, *, layer: str = "layer4") -> Tensor:
        """Grad-CAM of ``f_o`` [B, 1, h, w], not normalised."""
        maps, _ = grad_cam(self.f_o, x.to(self.device), target.to(self.device), layer=layer)
        return maps.detach()


def load_version(version: ModelVersion, device: torch.device) -> LoadedVersion:
    """Reads and loads a version's checkpoint onto ``device`` (eval mode)."""
    with tempfile.TemporaryDirectory(prefix="sightline-model-") as tmp:
        path = Path(tmp) / "model.safetensors"
        path.write_bytes(artifact_read(version.checkpoint))
        if version.method == Method.VAPL:
            from modeling.ml.vapl import VaplModel

            vapl = VaplModel.load(path, map_location=str(device)).eval()
            checkpoint_preprocessing = version.preprocessing
            f_o = vapl.f_o
        else:
            checkpoint = load_checkpoint(path, map_location=device)
            f_o = build_classifier(checkpoint.config)
            f_o.load_state_dict(checkpoint.model_state)
            f_o = f_o.to(device).eval()
            checkpoint_preprocessing = checkpoint.preprocessing or version.preprocessing
            vapl = None
    return LoadedVersion(
        version_id=version.pk,
        method=version.method,
        class_names=list(version.class_names),
        preprocessing=dict(checkpoint_preprocessing),
        f_o=f_o,
        vapl=vapl,
        device=device,
    )


def normalise_map(maps: Tensor) -> Tensor:
    """Per-sample min-max normalisation to [0, 1] (eps 1e-6), the stored maps' definition."""
    from modeling.ml.explain import normalize_minmax

    return normalize_minmax(maps)
