"""Modeling API routes, mounted under ``/api/v1/``."""

from django.urls import path

from modeling import apis

app_name = "modeling"

urlpatterns = [
    path("jobs/", apis.JobListApi.as_view(), name="job-list"),
    path("jobs/schema/", apis.JobSchemaApi.as_view(), name="job-schema"),
    path("jobs/<int:job_id>/", apis.JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<int:job_id>/cancel/", apis.JobCancelApi.as_view(), name="job-cancel"),
    path("jobs/<int:job_id>/logs/", apis.JobLogsApi.as_view(), name="job-logs"),
    path("jobs/<int:job_id>/metrics/", apis.JobMetricsApi.as_view(), name="job-metrics"),
    path("jobs/<int:job_id>/progress/", apis.JobProgressApi.as_view(), name="job-progress"),
    path("model-versions/", apis.ModelVersionListApi.as_view(), name="model-version-list"),
    path(
        "model-versions/compare/",
        apis.ModelVersionCompareApi.as_view(),
        name="model-version-compare",
    ),
    path(
        "model-versions/<int:version_id>/",
        apis.ModelVersionDetailApi.as_view(),
        name="model-version-detail",
    ),
    path(
        "model-versions/<int:version_id>/activate/",
        apis.ModelVersionActivateApi.as_view(),
        name="model-version-activate",
    ),
    path(
        "model-versions/<int:version_id>/checkpoint/",
        apis.ModelVersionCheckpointApi.as_view(),
        name="model-version-checkpoint",
    ),
    path(
        "model-versions/<int:version_id>/explanations/",
        apis.ExplanationMapListApi.as_view(),
        name="explanation-map-list",
    ),
    path(
        "model-versions/<int:version_id>/refined-prompts/",
        apis.RefinedPromptListApi.as_view(),
        name="refined-prompt-list",
    ),
    path(
        "explanation-maps/<int:map_id>/png/",
        apis.ExplanationMapPngApi.as_view(),
        name="explanation-map-png",
    ),
    path(
        "refined-prompts/<int:refined_id>/png/",
        apis.RefinedPromptPngApi.as_view(),
        name="refined-prompt-png",
    ),
    path("predictions/", apis.PredictionCreateApi.as_view(), name="prediction-create"),
    path(
        "predictions/<int:prediction_id>/",
        apis.PredictionDetailApi.as_view(),
        name="prediction-detail",
    ),
    path(
        "predictions/<int:prediction_id>/maps/<str:which>/",
        apis.PredictionMapApi.as_view(),
        name="prediction-map",
    ),
]
