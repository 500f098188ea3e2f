"""A trained VAPL predictor: the two streams ``f_o``, ``f_m`` and the weight function ``g``.

Prediction rule (METHODS.md section 4): ``y = f_m(I * t(D))`` for an image with a prompt,
``y = f_o(I)`` without one. ``t(D)`` is :func:`~modeling.ml.vapl.refinement.refine` with the
run's ``N``, ``p``, style and ``g``, the mask set drawn from ``config.mask_seed`` and, since no
label is known at prediction time, the scores taken at the class ``f_m`` predicts for
``I * M_D`` (important pixels only). The ``"no-refine"`` ablation uses ``A = [D != 0]``: the
prompt itself with unclear pixels kept (1) and unimportant ones removed (0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any

import torch
from torch import Tensor, nn

from modeling.ml.backbones import BackboneConfig, Classifier, build_classifier
from modeling.ml.explain import grad_cam
from modeling.ml.vapl.config import VaplConfig
from modeling.ml.vapl.refinement import eval_mode, refine
from modeling.ml.vapl.weighting import IdentityG, MonotoneG

METHOD = "vapl"


def build_g(config: VaplConfig) -> nn.Module:
    """The weight function of a run: :class:`MonotoneG`, or the identity for the ablations
    ``"no-g"`` (plain confidence weighting) and ``"no-refine"`` (no refinement at all)."""
    if config.learns_g:
        return MonotoneG(config.g_hidden)
    return IdentityG()


def unrefined_map(prompt: Tensor) -> Tensor:
    """The ``"no-refine"`` ablation's ``A = [D != 0]`` [B, 1, H, W] (unclear pixels kept)."""
    return (prompt != 0).to(prompt.dtype)


class VaplModel(nn.Module):
    """``f_o`` (image only), ``f_m`` (image masked by the refined prompt) and ``g``.

    Args:
        f_o: the image-only classifier.
        f_m: the masked-image classifier (same architecture).
        g: the weight function of the refinement.
        config: the run's hyperparameters (``N``, ``p``, style, seed, ablation).
        history: per-epoch metrics of the run that produced the model.
        run: settings the run derived (effective ``k_f``, ``k_g``, ``q``, prompted image count).
    """

    def __init__(
        self,
        f_o: Classifier,
        f_m: Classifier,
        g: nn.Module,
        *,
        config: VaplConfig,
        history: Sequence[Mapping[str, Any]] = (),
        run: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.f_o = f_o
        self.f_m = f_m
        self.g = g
        self.config = config
        self.history = [dict(h) for h in history]
        self.run = dict(run or {})

    @property
    def backbone(self) -> BackboneConfig:
        """The architecture shared by both streams."""
        return self.f_o.config

    @property
    def device(self) -> torch.device:
        """Where the streams live."""
        return next(self.f_o.parameters()).device

    def refine(self, x: Tensor, prompt: Tensor, label: Tensor | None = None) -> Tensor:
        """The refined prompt ``A = t(D)`` [B, 1, H, W] in [0, 1], on ``x``'s device.

        Args:
            x: images [B, C, H, W] in [0, 1].
            prompt: [B, 1, H, W] in {-1, 0, 1}.
            label: class per image [B]; ``None``: the class ``f_m`` predicts for ``I * M_D``.
        """
        cfg = self.config
        device = self.device
        xd, pd = x.to(device), prompt.to(device, x.dtype)
        if cfg.ablation == "no-refine":
            return unrefined_map(pd).to(x.device)
        with eval_mode(self.g):
            refined = refine(
                self.f_m,
                xd,
                pd,
                n_masks=cfg.n_masks,
                p=cfg.p,
                style=cfg.style,
                g=self.g,
                label=None if label is None else label.to(device),
                chunk=cfg.chunk,
                seed=cfg.mask_seed,
                grid=cfg.grid,
                autocast=cfg.autocast,
                channels_last=cfg.channels_last,
                rescale=cfg.rescale,
            )
        return refined.to(x.device)

    def _streams(
        self,
        x: Tensor,
        prompt: Tensor | None,
        has_prompt: Tensor | None,
        refined: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """``(x, masked x, uses f_m [B] bool)`` on the model's device; ``refined`` [B, 1, H, W]
        (from :meth:`refine`, for every image) skips the refinement."""
        xd = x.to(self.device)
        uses_m = torch.zeros(x.shape[0], dtype=torch.bool, device=self.device)
        if prompt is None:
            return xd, xd, uses_m
        uses_m = (
            torch.ones_like(uses_m) if has_prompt is None else has_prompt.to(self.device).bool()
        )
        masked = xd.clone()
        if uses_m.any():
            if refined is None:
                chosen = self.refine(xd[uses_m], prompt.to(self.device)[uses_m])
            else:
                chosen = refined.to(self.device, xd.dtype)[uses_m]
            masked[uses_m] = xd[uses_m] * chosen
        return xd, masked, uses_m

    @torch.no_grad()
    def predict_proba(
        self,
        x: Tensor,
        prompt: Tensor | None = None,
        *,
        has_prompt: Tensor | None = None,
        refined: Tensor | None = None,
    ) -> Tensor:
        """Class probabilities [B, K] on ``x``'s device.

        Args:
            x: images [B, C, H, W] in [0, 1].
            prompt: ``None``: ``softmax f_o(I)``; given [B, 1, H, W]: ``softmax f_m(I * t(D))``.
            has_prompt: optional [B] bool; images without a prompt then use ``f_o``.
            refined: optional ``t(D)`` [B, 1, H, W] already computed by :meth:`refine`.
        """
        xd, masked, uses_m = self._streams(x, prompt, has_prompt, refined)
        with eval_mode(self.f_o, self.f_m):
            logits = self.f_o(xd)
            if uses_m.any():
                logits[uses_m] = self.f_m(masked[uses_m]).to(logits.dtype)
        return logits.float().softmax(dim=1).to(x.device)

    def explain(
        self,
        x: Tensor,
        prompt: Tensor | None = None,
        *,
        target: Tensor | None = None,
        has_prompt: Tensor | None = None,
        layer: str = "layer4",
        refined: Tensor | None = None,
    ) -> Tensor:
        """Grad-CAM [B, 1, h, w] (non-negative, not normalised) of the stream that predicts.

        ``f_o`` on ``I`` without a prompt, ``f_m`` on ``I * t(D)`` with one (``refined``: ``t(D)``
        already computed by :meth:`refine`); the target is the predicted class unless given.
        """
        xd, masked, uses_m = self._streams(x, prompt, has_prompt, refined)
        maps: Tensor | None = None
        with eval_mode(self.f_o, self.f_m):
            for stream, inputs, rows in ((self.f_o, xd, ~uses_m), (self.f_m, masked, uses_m)):
                if not rows.any():
                    continue
                with torch.no_grad():
                    chosen = stream(inputs[rows]).argmax(1) if target is None else None
                wanted = chosen if target is None else target.to(self.device)[rows]
                cam, _ = grad_cam(stream, inputs[rows], wanted, layer=layer)
                if maps is None:
                    maps = cam.new_zeros(x.shape[0], *cam.shape[1:])
                maps[rows] = cam
        assert maps is not None
        return maps.to(x.device)

    def save(
        self,
        path: str | PathLike[str],
        *,
        class_names: Sequence[str],
        preprocessing: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """One checkpoint with the states ``f_o``, ``f_m``, ``g`` (method ``"vapl"``)."""
        from modeling.ml.checkpoints import save_checkpoint

        save_checkpoint(
            path,
            model_state={
                "f_o": self.f_o.state_dict(),
                "f_m": self.f_m.state_dict(),
                "g": self.g.state_dict(),
            },
            config=self.backbone,
            class_names=list(class_names),
            preprocessing=dict(preprocessing or {}),
            method=METHOD,
            hyperparameters=self.config.to_dict(),
            metrics=dict(metrics or {}),
            extra={"history": self.history, "run": self.run, **dict(extra or {})},
        )

    @classmethod
    def load(cls, path: str | PathLike[str], *, map_location: str = "cpu") -> VaplModel:
        """Inverse of :meth:`save` (safetensors only, nothing is unpickled).

        Raises:
            CheckpointError: unreadable file or not a VAPL checkpoint.
        """
        from modeling.ml.checkpoints import CheckpointError, load_checkpoint

        checkpoint = load_checkpoint(path, map_location=map_location)
        if checkpoint.method != METHOD:
            raise CheckpointError(f"{path}: method {checkpoint.method!r} is not {METHOD!r}")
        try:
            config = VaplConfig.from_dict(checkpoint.hyperparameters)
            model = cls.build(checkpoint.config, config)
            for name in ("f_o", "f_m", "g"):
                getattr(model, name).load_state_dict(checkpoint.state(name))
        except (TypeError, ValueError, RuntimeError) as error:
            raise CheckpointError(f"{path}: not a loadable VAPL checkpoint ({error})") from error
        model.history = list(checkpoint.extra.get("history", []))
        model.run = dict(checkpoint.extra.get("run", {}))
        return model.to(map_location)

    @classmethod
    def build(cls, backbone: BackboneConfig, config: VaplConfig) -> VaplModel:
        """Fresh streams (``f_m`` starts as a copy of ``f_o``) and a fresh ``g``."""
        f_o = build_classifier(backbone)
        f_m = build_classifier(backbone)
        f_m.load_state_dict(f_o.state_dict())
        return cls(f_o, f_m, build_g(config), config=config)
