"""Explanation methods: Grad-CAM, Input x Gradient, Integrated Gradients, RISE, IASSA.

Every method takes images ``x`` [B, C, H, W] in [0, 1] and a target class per sample, and returns
tensors on the input's device. Maps are [B, 1, h, w] and non-negative unless stated.
"""

from modeling.ml.explain.attribution import (
    input_x_gradient,
    input_x_gradient_from_input,
    integrated_gradients,
    reduce_channels,
)
from modeling.ml.explain.gradcam import class_activation_map, grad_cam, grad_cam_from_activations
from modeling.ml.explain.iassa import iassa
from modeling.ml.explain.normalize import (
    normalize_max,
    normalize_minmax,
    resize_map,
    resize_mask,
)
from modeling.ml.explain.rise import make_generator, rise, rise_masks

__all__ = [
    "class_activation_map",
    "grad_cam",
    "grad_cam_from_activations",
    "iassa",
    "input_x_gradient",
    "input_x_gradient_from_input",
    "integrated_gradients",
    "make_generator",
    "normalize_max",
    "normalize_minmax",
    "reduce_channels",
    "resize_map",
    "resize_mask",
    "rise",
    "rise_masks",
]
