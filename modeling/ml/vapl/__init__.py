"""VAPL: visual attention-prompted prediction and learning (Zhang et al., IJCAI 2024).

Two classifiers of one architecture: ``f_o`` sees the image, ``f_m`` the image masked by the
refined prompt ``t(D)``. See :mod:`~modeling.ml.vapl.refinement` (``t(D)``),
:mod:`~modeling.ml.vapl.weighting` (``g``), :mod:`~modeling.ml.vapl.trainer` (training) and
:mod:`~modeling.ml.vapl.model` (prediction, explanation, checkpoints).
"""

from modeling.ml.vapl.config import VaplConfig
from modeling.ml.vapl.masks import MaskSet, aggregate
from modeling.ml.vapl.model import VaplModel, build_g, unrefined_map
from modeling.ml.vapl.phases import RoundCache
from modeling.ml.vapl.refinement import (
    compose_refined,
    mask_scores,
    refine,
    refined_map,
    refinement_target,
)
from modeling.ml.vapl.trainer import evaluate_f_o, train_vapl
from modeling.ml.vapl.weighting import IdentityG, MonotoneG

__all__ = [
    "IdentityG",
    "MaskSet",
    "MonotoneG",
    "RoundCache",
    "VaplConfig",
    "VaplModel",
    "aggregate",
    "build_g",
    "compose_refined",
    "evaluate_f_o",
    "mask_scores",
    "refine",
    "refined_map",
    "refinement_target",
    "train_vapl",
    "unrefined_map",
]
