"""Writes of the modeling app (jobs, job runtime, model registry, artifacts, predictions)."""

from modeling.services.artifacts import explanation_map_save, refined_prompt_save
from modeling.services.jobs import job_cancel, job_create, job_enqueue, training_snapshot
from modeling.services.predictions import prediction_request, prediction_wait
from modeling.services.reconcile import jobs_reconcile
from modeling.services.versions import (
    model_version_activate,
    model_version_create,
    model_version_metrics_update,
)

__all__ = [
    "explanation_map_save",
    "job_cancel",
    "job_create",
    "job_enqueue",
    "jobs_reconcile",
    "model_version_activate",
    "model_version_create",
    "model_version_metrics_update",
    "prediction_request",
    "prediction_wait",
    "refined_prompt_save",
    "training_snapshot",
]
