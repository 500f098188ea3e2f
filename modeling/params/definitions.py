"""The parameters of every job kind, the method presets and the quick preset."""

from __future__ import annotations

from typing import Any

from modeling.params.param import Param

METHODS = ("baseline", "gradia", "haics", "res-g", "res-l", "energy", "rrr", "vapl")
GUIDED_METHODS = ("gradia", "haics", "res-g", "res-l", "energy", "rrr")
EXPLAIN_METHODS = ("gradcam", "rise")
SPLITS = ("train", "val", "test")

_VAPL = ("vapl",)

TRAIN_PARAMS: tuple[Param, ...] = (
    Param("method", "choice", "baseline", choices=METHODS, help="training method"),
    Param("arch", "choice", "resnet18", choices=("resnet18", "resnet50"), group="model"),
    Param(
        "input_size",
        "int",
        224,
        minimum=16,
        maximum=1024,
        help="images, prompts and masks are resized to this square size",
        group="model",
    ),
    Param(
        "small_input",
        "bool",
        None,
        nullable=True,
        help="3x3 stride-1 stem without max-pool (null: on for input_size <= 64)",
        group="model",
    ),
    Param(
        "parent_version",
        "int",
        None,
        minimum=1,
        nullable=True,
        help="start from this model version's weights",
        group="model",
    ),
    Param("epochs", "int", 30, minimum=1, maximum=1000, group="optimisation"),
    Param("batch_size", "int", 16, minimum=1, maximum=1024, group="optimisation"),
    Param(
        "lr",
        "float",
        1e-4,
        minimum=1e-8,
        maximum=1.0,
        help="Adam learning rate",
        group="optimisation",
    ),
    Param("weight_decay", "float", 0.0, minimum=0.0, maximum=1.0, group="optimisation"),
    Param(
        "patience",
        "int",
        5,
        minimum=1,
        maximum=1000,
        nullable=True,
        help="early stopping: epochs without a better validation score (null: never)",
        group="optimisation",
    ),
    Param("seed", "int", 0, minimum=0, maximum=2**31 - 1, group="optimisation"),
    Param(
        "augment_flip",
        "bool",
        False,
        help="random horizontal flips of image, prompt and mask",
        group="optimisation",
    ),
    # Explanation-guided methods (METHODS.md section 3).
    Param(
        "lambda_expl",
        "float",
        1.0,
        minimum=0.0,
        maximum=1e6,
        methods=GUIDED_METHODS,
        help="weight of the explanation loss: CE + lambda * L_expl",
        group="guidance",
    ),
    Param(
        "cam_layer",
        "choice",
        "layer4",
        choices=("layer3", "layer4"),
        methods=GUIDED_METHODS,
        group="guidance",
    ),
    Param(
        "cam_weights",
        "choice",
        "detached",
        choices=("detached", "differentiated"),
        methods=GUIDED_METHODS,
        help="whether Grad-CAM channel weights are differentiated in the loss",
        group="guidance",
    ),
    Param(
        "res_gamma",
        "float",
        5.0,
        minimum=0.0,
        maximum=100.0,
        methods=("res-g", "res-l"),
        group="guidance",
    ),
    Param(
        "res_eta",
        "float",
        0.1,
        minimum=0.0,
        maximum=10.0,
        methods=("res-g", "res-l"),
        group="guidance",
    ),
    # VAPL (METHODS.md section 4).
    Param(
        "lambda1",
        "float",
        0.1,
        minimum=0.0,
        maximum=1e6,
        methods=_VAPL,
        help="L_param weight",
        group="vapl",
    ),
    Param(
        "lambda2",
        "float",
        1.0,
        minimum=0.0,
        maximum=1e6,
        methods=_VAPL,
        help="L_feature weight",
        group="vapl",
    ),
    Param(
        "lambda3",
        "float",
        10.0,
        minimum=0.0,
        maximum=1e6,
        methods=_VAPL,
        help="L_MLP weight",
        group="vapl",
    ),
    Param(
        "n_masks",
        "int",
        5000,
        minimum=1,
        maximum=100_000,
        methods=_VAPL,
        help="N masks per refinement",
        group="vapl",
    ),
    Param(
        "p",
        "float",
        0.1,
        minimum=0.0,
        maximum=0.99,
        methods=_VAPL,
        help="unclear pixels kept with q = 1 - p",
        group="vapl",
    ),
    Param("style", "choice", "pixel", choices=("pixel", "smooth"), methods=_VAPL, group="vapl"),
    Param(
        "grid",
        "int",
        7,
        minimum=1,
        maximum=64,
        methods=_VAPL,
        help="smooth masks: grid cells per side",
        group="vapl",
    ),
    Param(
        "rounds",
        "int",
        1,
        minimum=1,
        maximum=100,
        methods=_VAPL,
        help="score refreshes per epoch",
        group="vapl",
    ),
    Param(
        "k_f",
        "int",
        None,
        minimum=1,
        nullable=True,
        methods=_VAPL,
        help="phase-F steps per round",
        group="vapl",
    ),
    Param(
        "k_g",
        "int",
        None,
        minimum=1,
        nullable=True,
        methods=_VAPL,
        help="phase-G steps per round",
        group="vapl",
    ),
    Param(
        "g_lr",
        "float",
        1e-2,
        minimum=1e-8,
        maximum=1.0,
        methods=_VAPL,
        help="Adam learning rate of the weight function g",
        group="vapl",
    ),
    Param(
        "ablation",
        "choice",
        None,
        choices=("no-refine", "no-share", "no-g"),
        nullable=True,
        methods=_VAPL,
        group="vapl",
    ),
    Param("mask_seed", "int", 0, minimum=0, maximum=2**31 - 1, methods=_VAPL, group="vapl"),
)

# GRADIA's (prediction, attention) weight per reasonability quadrant (METHODS.md section 3,
# reference-code defaults); modeling.worker.gradia applies them from the snapshot's assessments.
_GRADIA_WEIGHTS = {
    "ra": (1.0, 0.0),
    "ua": (0.4, 1.6),
    "ria": (0.8, 0.2),
    "uia": (1.0, 1.0),
    "unassessed": (1.0, 1.0),
}
TRAIN_PARAMS = TRAIN_PARAMS + tuple(
    Param(
        f"gradia_{quadrant}_{part}",
        "float",
        weights[k],
        minimum=0.0,
        maximum=100.0,
        methods=("gradia",),
        help=f"{'prediction' if part == 'pred' else 'attention'} weight of {quadrant} images",
        group="gradia",
    )
    for quadrant, weights in _GRADIA_WEIGHTS.items()
    for k, part in enumerate(("pred", "attn"))
)

# Method presets: the defaults each method's paper (or METHODS.md) uses, applied under the
# caller's explicit values.
PRESETS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "gradia": {"lambda_expl": 1.0},
    "haics": {"lambda_expl": 1.0},
    "res-g": {"lambda_expl": 1.0, "res_gamma": 5.0, "res_eta": 0.1},
    "res-l": {"lambda_expl": 1.0, "res_gamma": 5.0, "res_eta": 0.1},
    "energy": {"lambda_expl": 1.0},
    # RRR's lambda = 1000 assumes 0-255 inputs and summed losses; 1000 / 255^2 is the same
    # weight for inputs in [0, 1] with averaged losses (modeling.ml.losses.RRR_PAPER_LAMBDA).
    "rrr": {"lambda_expl": 1000.0 / 255.0**2},
    "vapl": {"lr": 1e-4, "batch_size": 16, "epochs": 30, "n_masks": 5000, "p": 0.1},
}

# A quick preset for small projects and CPU workers (DecoyDigits calibration settings).
QUICK_PRESET: dict[str, Any] = {
    "input_size": 32,
    "epochs": 5,
    "batch_size": 32,
    "lr": 1e-3,
    "n_masks": 128,
}

REFINE_PARAMS: tuple[Param, ...] = (
    Param("model_version", "int", None, minimum=1, help="a VAPL model version"),
    Param("prompt_ids", "ids", None, nullable=True, help="prompts to refine (null: every prompt)"),
    Param(
        "split", "choice", None, choices=SPLITS, nullable=True, help="only prompts on this split"
    ),
    Param("n_masks", "int", 5000, minimum=1, maximum=100_000),
    Param("p", "float", 0.1, minimum=0.0, maximum=0.99),
    Param("style", "choice", "pixel", choices=("pixel", "smooth")),
    Param("seed", "int", 0, minimum=0, maximum=2**31 - 1),
)

EXPLAIN_PARAMS: tuple[Param, ...] = (
    Param("model_version", "int", None, minimum=1),
    Param("split", "choice", None, choices=SPLITS, nullable=True, help="explain this split"),
    Param("image_ids", "ids", None, nullable=True, help="or explain these images"),
    Param("methods", "list", ["gradcam"], choices=EXPLAIN_METHODS, help="gradcam and/or rise"),
    Param("layer", "choice", "layer4", choices=("layer3", "layer4")),
    Param("rise_masks", "int", 1000, minimum=1, maximum=100_000),
    Param("seed", "int", 0, minimum=0, maximum=2**31 - 1),
)

EVALUATE_PARAMS: tuple[Param, ...] = (
    Param("model_version", "int", None, minimum=1),
    Param("split", "choice", "test", choices=SPLITS),
    Param("layer", "choice", "layer4", choices=("layer3", "layer4")),
)

SCHEMAS: dict[str, tuple[Param, ...]] = {
    "train": TRAIN_PARAMS,
    "refine": REFINE_PARAMS,
    "explain": EXPLAIN_PARAMS,
    "evaluate": EVALUATE_PARAMS,
}
