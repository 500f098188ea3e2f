"""Reads of the modeling app. Visibility comes from ``labeling.selectors`` (one place): a user
sees the jobs, versions, artifacts and predictions of the projects they are a member of."""

from __future__ import annotations

from django.db.models import QuerySet

from labeling.selectors import not_found, role_expression, visible_projects_q
from labeling.selectors.common import AnyUser
from modeling.models import (
    ExplanationMap,
    Job,
    JobMetric,
    ModelVersion,
    Prediction,
    RefinedPrompt,
)


def job_list_for_user(
    *,
    user: AnyUser,
    project_id: int | None = None,
    status: str | None = None,
    kind: str | None = None,
) -> QuerySet[Job]:
    """Jobs of the caller's projects, newest first, without their log tail (one query)."""
    jobs = (
        Job.objects.filter(visible_projects_q(user, "project_id"))
        .annotate(my_role=role_expression(user, "project_id"))
        .select_related("created_by", "produced_version", "model_version")
        .defer("log_tail", "snapshot", "model_version__snapshot", "model_version__history")
    )
    if project_id is not None:
        jobs = jobs.filter(project_id=project_id)
    if status:
        jobs = jobs.filter(status=status)
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs.order_by("-created_at", "-pk")


def job_get_for_user(*, user: AnyUser, job_id: int) -> Job:
    """One visible job with ``my_role``; 404 otherwise."""
    job = (
        Job.objects.filter(visible_projects_q(user, "project_id"))
        .annotate(my_role=role_expression(user, "project_id"))
        .select_related("created_by", "produced_version", "model_version")
        .filter(pk=job_id)
        .first()
    )
    if job is None:
        raise not_found()
    return job


def job_metrics(*, job: Job, after_step: int | None = None) -> QuerySet[JobMetric]:
    """The job's metrics time series in step order (only points after ``after_step``)."""
    points = JobMetric.objects.filter(job=job)
    if after_step is not None:
        points = points.filter(step__gt=after_step)
    return points.order_by("step")


def model_version_list_for_user(
    *, user: AnyUser, project_id: int | None = None
) -> QuerySet[ModelVersion]:
    """Model versions of the caller's projects, newest first (one query)."""
    versions = (
        ModelVersion.objects.filter(visible_projects_q(user, "project_id"))
        .annotate(my_role=role_expression(user, "project_id"))
        .select_related("created_by", "job")
        .defer("snapshot", "history")
    )
    if project_id is not None:
        versions = versions.filter(project_id=project_id)
    return versions.order_by("project_id", "-number")


def model_version_get_for_user(*, user: AnyUser, version_id: int) -> ModelVersion:
    """One visible model version with ``my_role``; 404 otherwise."""
    version = (
        ModelVersion.objects.filter(visible_projects_q(user, "project_id"))
        .annotate(my_role=role_expression(user, "project_id"))
        .select_related("created_by", "job", "project")
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        raise not_found()
    return version


def explanation_map_list(
    *, version: ModelVersion, image_id: int | None = None, method: str | None = None
) -> QuerySet[ExplanationMap]:
    """Stored explanations of a (visible) model version."""
    maps = ExplanationMap.objects.filter(model_version=version)
    if image_id is not None:
        maps = maps.filter(image_id=image_id)
    if method:
        maps = maps.filter(method=method)
    return maps.order_by("image_id", "method", "pk")


def explanation_map_get_for_user(*, user: AnyUser, map_id: int) -> ExplanationMap:
    """One stored explanation of a visible project; 404 otherwise."""
    found = (
        ExplanationMap.objects.filter(visible_projects_q(user, "model_version__project_id"))
        .annotate(my_role=role_expression(user, "model_version__project_id"))
        .filter(pk=map_id)
        .first()
    )
    if found is None:
        raise not_found()
    return found


def refined_prompt_list(
    *, version: ModelVersion, image_id: int | None = None, prompt_id: int | None = None
) -> QuerySet[RefinedPrompt]:
    """Stored refined prompts ``t(D)`` of a (visible) model version."""
    refined = (
        RefinedPrompt.objects.filter(model_version=version)
        .select_related("prompt_version__prompt")
        .defer("prompt_version__mask_png")
    )
    if image_id is not None:
        refined = refined.filter(prompt_version__prompt__image_id=image_id)
    if prompt_id is not None:
        refined = refined.filter(prompt_version__prompt_id=prompt_id)
    return refined.order_by("prompt_version_id")


def refined_prompt_get_for_user(*, user: AnyUser, refined_id: int) -> RefinedPrompt:
    """One stored refined prompt of a visible project; 404 otherwise."""
    found = (
        RefinedPrompt.objects.filter(visible_projects_q(user, "model_version__project_id"))
        .annotate(my_role=role_expression(user, "model_version__project_id"))
        .filter(pk=refined_id)
        .first()
    )
    if found is None:
        raise not_found()
    return found


def prediction_get_for_user(*, user: AnyUser, prediction_id: int) -> Prediction:
    """One prediction of a visible project, without its PNG bytes; 404 otherwise."""
    found = (
        Prediction.objects.filter(visible_projects_q(user, "model_version__project_id"))
        .annotate(my_role=role_expression(user, "model_version__project_id"))
        .select_related("model_version")
        .defer("gradcam_png", "gradcam_m_png", "refined_png")
        .filter(pk=prediction_id)
        .first()
    )
    if found is None:
        raise not_found()
    return found


def prediction_png(*, prediction: Prediction, which: str) -> bytes | None:
    """The PNG bytes of one of a prediction's maps (``gradcam``, ``gradcam_m``, ``refined``)."""
    field = {"gradcam": "gradcam_png", "gradcam_m": "gradcam_m_png", "refined": "refined_png"}
    if which not in field:
        raise not_found()
    data = Prediction.objects.filter(pk=prediction.pk).values_list(field[which], flat=True).first()
    return bytes(data) if data else None


def model_version_compare(*, a: ModelVersion, b: ModelVersion) -> dict[str, object]:
    """Side-by-side metrics (``b - a`` deltas) and hyperparameter differences of two versions.

    Returns:
        ``{"metrics": [{"split", "metric", "a", "b", "delta"}], "hyperparameters": [{"name",
        "a", "b"}]}``; only numeric metrics get a delta, only differing hyperparameters are listed.
    """
    rows = []
    metrics_a, metrics_b = a.metrics or {}, b.metrics or {}
    for split in sorted(set(metrics_a) | set(metrics_b)):
        values_a = metrics_a.get(split) or {}
        values_b = metrics_b.get(split) or {}
        if not isinstance(values_a, dict) or not isinstance(values_b, dict):
            continue
        for name in sorted(set(values_a) | set(values_b)):
            va, vb = values_a.get(name), values_b.get(name)
            numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (va, vb))
            rows.append(
                {
                    "split": split,
                    "metric": name,
                    "a": va,
                    "b": vb,
                    "delta": (vb - va) if numeric else None,
                }
            )
    params_a, params_b = a.hyperparameters or {}, b.hyperparameters or {}
    differing = [
        {"name": name, "a": params_a.get(name), "b": params_b.get(name)}
        for name in sorted(set(params_a) | set(params_b))
        if params_a.get(name) != params_b.get(name)
    ]
    if a.method != b.method:
        differing.insert(0, {"name": "method", "a": a.method, "b": b.method})
    return {"metrics": rows, "hyperparameters": differing}
