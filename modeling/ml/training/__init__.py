"""Explanation-guided training: map sources, the guided step and loop, evaluation helpers.

Generic pieces (:func:`seed_everything`, :class:`ModelSelector`, :func:`predict_proba`,
:func:`evaluate`, :func:`make_loader`, :class:`Cancelled`) are shared with other trainers such
as VAPL's.
"""

from modeling.ml.training.batchnorm import recalibrate_batchnorm
from modeling.ml.training.evaluation import (
    evaluate,
    explanation_report,
    make_loader,
    model_predict,
    predict_proba,
    reference_masks,
    to_device,
    validation_metrics,
)
from modeling.ml.training.loop import (
    GRADIA_QUADRANT_WEIGHTS,
    Cancelled,
    ModelSelector,
    TrainConfig,
    TrainResult,
    fit,
    guided_step,
    reasonability_weights,
    run_epoch,
    seed_everything,
)
from modeling.ml.training.maps import MAP_KINDS, MapSource, map_grid

__all__ = [
    "GRADIA_QUADRANT_WEIGHTS",
    "MAP_KINDS",
    "Cancelled",
    "MapSource",
    "ModelSelector",
    "TrainConfig",
    "TrainResult",
    "evaluate",
    "explanation_report",
    "fit",
    "guided_step",
    "make_loader",
    "map_grid",
    "model_predict",
    "predict_proba",
    "reasonability_weights",
    "recalibrate_batchnorm",
    "reference_masks",
    "run_epoch",
    "seed_everything",
    "to_device",
    "validation_metrics",
]
