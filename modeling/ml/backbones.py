"""ResNet classifiers with named seams for explanations and two-stream training.

The networks are torchvision's ResNet-18 / ResNet-50 built with ``weights=None`` (nothing is ever
downloaded). Parameter names match torchvision (``conv1``, ``bn1``, ``layer1`` .. ``layer4``,
``fc``) so a torchvision state dict of the same shape loads directly. Mean/std normalisation
lives inside the model as non-persistent buffers: inputs are images in ``[0, 1]`` and masking
``x * M`` happens in that space (0 = black substrate). The buffers come from the config, which
travels with every checkpoint, so they are not part of the state dict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import ClassVar

import torch
from torch import Tensor, nn
from torchvision.models import resnet18, resnet50

ARCHITECTURES = ("resnet18", "resnet50")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
GREY_MEAN = 0.449
GREY_STD = 0.226


@dataclass(frozen=True)
class BackboneConfig:
    """Architecture of a classifier.

    Attributes:
        arch: ``"resnet18"`` or ``"resnet50"``.
        num_classes: number of output logits ``K``.
        in_channels: 1 (grey / CT) or 3 (RGB).
        small_input: 3x3 stride-1 stem without max-pool, for inputs of 32-64 px.
        mean: per-channel mean of the ``[0, 1]`` input (``len == in_channels``). With
            ``in_channels=1`` and the RGB defaults left untouched, mean and std become the
            averages of the ImageNet values (0.449, 0.226), so ``BackboneConfig(in_channels=1)``
            is valid.
        std: per-channel standard deviation (``len == in_channels``).
    """

    arch: str = "resnet18"
    num_classes: int = 2
    in_channels: int = 3
    small_input: bool = False
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD

    def __post_init__(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"unknown arch {self.arch!r}; expected one of {ARCHITECTURES}")
        if self.num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {self.num_classes}")
        if self.in_channels not in (1, 3):
            raise ValueError(f"in_channels must be 1 or 3, got {self.in_channels}")
        if self.in_channels == 1 and tuple(self.mean) == IMAGENET_MEAN:
            object.__setattr__(self, "mean", (GREY_MEAN,))
        if self.in_channels == 1 and tuple(self.std) == IMAGENET_STD:
            object.__setattr__(self, "std", (GREY_STD,))
        # Tuples survive a JSON round trip as lists; store them as tuples so configs compare equal.
        object.__setattr__(self, "mean", tuple(float(v) for v in self.mean))
        object.__setattr__(self, "std", tuple(float(v) for v in self.std))
        if len(self.mean) != self.in_channels or len(self.std) != self.in_channels:
            raise ValueError(
                f"mean and std need {self.in_channels} values, got {len(self.mean)} and "
                f"{len(self.std)}"
            )
        if any(s <= 0 for s in self.std):
            raise ValueError("std values must be positive")

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable dict (tuples become lists)."""
        return {
            "arch": self.arch,
            "num_classes": self.num_classes,
            "in_channels": self.in_channels,
            "small_input": self.small_input,
            "mean": list(self.mean),
            "std": list(self.std),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> BackboneConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        known = {"arch", "num_classes", "in_channels", "small_input", "mean", "std"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown BackboneConfig fields: {sorted(unknown)}")
        return cls(**data)  # type: ignore[arg-type]


class Classifier(nn.Module):
    """A ResNet classifier whose stages can be returned explicitly.

    Stages: ``stem`` (conv1, bn1, relu and, unless ``small_input``, max-pool), ``layer1`` ..
    ``layer4``; the head is global average pooling + ``fc``.
    """

    stage_names: ClassVar[tuple[str, ...]] = ("stem", "layer1", "layer2", "layer3", "layer4")

    def __init__(self, config: BackboneConfig) -> None:
        super().__init__()
        self.config = config
        factory = resnet18 if config.arch == "resnet18" else resnet50
        net = factory(weights=None, num_classes=config.num_classes)
        if config.small_input:
            # CIFAR-style stem: at 32 px a 7x7/2 conv plus max-pool leaves a 1x1 layer4 grid.
            net.conv1 = nn.Conv2d(config.in_channels, 64, 3, stride=1, padding=1, bias=False)
            net.maxpool = nn.Identity()
        elif config.in_channels != 3:
            net.conv1 = nn.Conv2d(config.in_channels, 64, 7, stride=2, padding=3, bias=False)
        if config.small_input or config.in_channels != 3:
            nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")
        self.conv1 = net.conv1
        self.bn1 = net.bn1
        self.relu = net.relu
        self.maxpool = net.maxpool
        self.layer1 = net.layer1
        self.layer2 = net.layer2
        self.layer3 = net.layer3
        self.layer4 = net.layer4
        self.avgpool = net.avgpool
        self.fc = net.fc
        shape = (1, config.in_channels, 1, 1)
        self.register_buffer("mean", torch.tensor(config.mean).view(shape), persistent=False)
        self.register_buffer("std", torch.tensor(config.std).view(shape), persistent=False)

    @property
    def feature_dim(self) -> int:
        """Number of channels of the layer4 output (512 for ResNet-18, 2048 for ResNet-50)."""
        return self.fc.in_features

    def _stem(self, x: Tensor) -> Tensor:
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))

    def _stages(self) -> Iterator[tuple[str, Callable[[Tensor], Tensor]]]:
        yield "stem", self._stem
        yield "layer1", self.layer1
        yield "layer2", self.layer2
        yield "layer3", self.layer3
        yield "layer4", self.layer4

    def normalize(self, x: Tensor) -> Tensor:
        """``(x - mean) / std`` with the model's buffers; ``x`` [B, C, H, W] in [0, 1]."""
        if x.ndim != 4 or x.shape[1] != self.config.in_channels:
            raise ValueError(
                f"expected input [B, {self.config.in_channels}, H, W], got {tuple(x.shape)}"
            )
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    def forward(self, x: Tensor) -> Tensor:
        """Logits [B, K] of images ``x`` [B, C, H, W] in [0, 1]."""
        return self.forward_head(self.forward_features(x))

    def forward_features(self, x: Tensor) -> Tensor:
        """The layer4 output [B, C4, h, w] (before pooling)."""
        h = self.normalize(x)
        for _, stage in self._stages():
            h = stage(h)
        return h

    def forward_head(self, features: Tensor) -> Tensor:
        """Global average pooling + ``fc``: layer4 features [B, C4, h, w] -> logits [B, K]."""
        return self.fc(torch.flatten(self.avgpool(features), 1))

    def forward_with_activations(
        self, x: Tensor, layers: Sequence[str]
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Logits and the named stage outputs from one forward pass.

        The activations are the tensors the next stage consumes (explicit returns, no hooks), so
        gradients of the logits with respect to them are well defined and can be differentiated
        again (``create_graph=True``). No stage modifies its input in place.

        Args:
            x: images [B, C, H, W] in [0, 1].
            layers: names from :attr:`stage_names`.

        Returns:
            ``(logits [B, K], {name: activation [B, C_l, h_l, w_l]})``.
        """
        wanted = set(layers)
        unknown = wanted - set(self.stage_names)
        if unknown:
            raise ValueError(f"unknown layers {sorted(unknown)}; expected {self.stage_names}")
        activations: dict[str, Tensor] = {}
        h = self.normalize(x)
        for name, stage in self._stages():
            h = stage(h)
            if name in wanted:
                activations[name] = h
        return self.forward_head(h), activations

    def conv_parameters(self) -> Iterator[tuple[str, nn.Parameter]]:
        """``(name, weight)`` of every convolution (stem, blocks and downsample shortcuts)."""
        for name, module in self.named_modules():
            if isinstance(module, nn.Conv2d):
                yield f"{name}.weight", module.weight


def build_classifier(config: BackboneConfig) -> Classifier:
    """A randomly initialised classifier (``weights=None``: nothing is downloaded)."""
    return Classifier(config)


def load_weights(
    model: nn.Module, path: str | PathLike[str], *, state: str | None = None, strict: bool = True
) -> None:
    """Load weights into ``model`` from a state-dict file or a Sightline checkpoint.

    Accepted files: a Sightline checkpoint or any safetensors file (read with safetensors), or a
    ``.pt``/``.pth`` file holding a plain state dict, read with ``torch.load(weights_only=True)``
    (nothing is unpickled beyond tensors and containers). A ``module.`` prefix (DataParallel) is
    stripped.

    Args:
        model: the model to fill in place.
        path: the weights file.
        state: which state dict of a checkpoint holding several (``"f_o"``, ``"f_m"``, ...);
            optional when the checkpoint holds one.
        strict: every key must match (as ``nn.Module.load_state_dict``).

    Raises:
        CheckpointError: unreadable or unsafe file, missing state, missing/unexpected keys or
            shapes that do not match the model.
    """
    # checkpoints imports BackboneConfig from this module, so it is imported here, not on top.
    from modeling.ml.checkpoints import CheckpointError, read_state_dict

    weights = read_state_dict(path, state=state)
    if weights and all(k.startswith("module.") for k in weights):
        weights = {k.removeprefix("module."): v for k, v in weights.items()}
    own = model.state_dict()
    mismatched = [
        f"{k}: file {tuple(v.shape)} vs model {tuple(own[k].shape)}"
        for k, v in weights.items()
        if k in own and tuple(v.shape) != tuple(own[k].shape)
    ]
    if mismatched:
        raise CheckpointError(
            f"{path}: {len(mismatched)} tensor(s) do not match the model's shapes (wrong "
            f"num_classes, in_channels, small_input or arch?): " + "; ".join(mismatched[:5])
        )
    if strict:
        missing = sorted(set(own) - set(weights))
        unexpected = sorted(set(weights) - set(own))
        if missing or unexpected:
            raise CheckpointError(
                f"{path}: keys do not match the model: missing {missing[:5]}"
                f"{' ...' if len(missing) > 5 else ''}, unexpected {unexpected[:5]}"
                f"{' ...' if len(unexpected) > 5 else ''}"
            )
    model.load_state_dict(weights, strict=strict)
