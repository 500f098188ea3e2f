"""Modeling API: jobs, the model registry, stored artifacts and interactive predictions."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling import selectors as labeling_selectors
from labeling.apis.common import (
    BINARY_PNG,
    FirstRendererNegotiation,
    file_response,
    page_of,
    paginated,
    png_response,
    validated,
)
from labeling.permissions import (
    ALL_ROLES,
    IsMemberAdminWrites,
    IsProjectAdmin,
    ProjectRolePermission,
)
from modeling import selectors, services
from modeling.models import ModelVersion, PredictionStatus
from modeling.params import schema_as_dict
from modeling.serializers import (
    ArtifactFilterInput,
    CompareInput,
    ComparisonSerializer,
    ExplanationMapSerializer,
    JobCreateInput,
    JobFilterInput,
    JobLogSerializer,
    JobMetricSerializer,
    JobProgressInput,
    JobProgressSerializer,
    JobSerializer,
    ModelVersionDetailSerializer,
    ModelVersionSerializer,
    PredictionCreateInput,
    PredictionSerializer,
    ProjectFilterInput,
    RefinedPromptSerializer,
)
from modeling.services.artifacts import artifact_read
from sightline.errors import ApplicationError

_ARTIFACT_CACHE_SECONDS = 3600


class AnyMemberWrites(ProjectRolePermission):
    """Every member may ask for a prediction (it changes nothing in the project)."""

    write_roles = ALL_ROLES


class JobListApi(APIView):
    permission_classes = [IsMemberAdminWrites]
    parser_classes = [JSONParser]

    @extend_schema(parameters=[JobFilterInput], responses=page_of(JobSerializer))
    def get(self, request: Request) -> Response:
        filters = validated(JobFilterInput, request.query_params.dict())
        jobs = selectors.job_list_for_user(
            user=request.user,
            project_id=filters.get("project"),
            status=filters.get("status"),
            kind=filters.get("kind"),
        )
        return paginated(request, self, jobs, JobSerializer)

    @extend_schema(request=JobCreateInput, responses={201: JobSerializer})
    def post(self, request: Request) -> Response:
        data = validated(JobCreateInput, request.data)
        project = labeling_selectors.project_get_for_user(
            user=request.user, project_id=data["project"]
        )
        self.check_object_permissions(request, project)
        job = services.job_create(
            project=project, user=request.user, kind=data["kind"], parameters=data["parameters"]
        )
        job = selectors.job_get_for_user(user=request.user, job_id=job.pk)
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)


class JobSchemaApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response(schema_as_dict())


class JobDetailApi(APIView):
    permission_classes = [IsMemberAdminWrites]

    @extend_schema(responses=JobSerializer)
    def get(self, request: Request, job_id: int) -> Response:
        job = selectors.job_get_for_user(user=request.user, job_id=job_id)
        self.check_object_permissions(request, job)
        return Response(JobSerializer(job).data)


class JobCancelApi(APIView):
    permission_classes = [IsMemberAdminWrites]

    @extend_schema(request=None, responses=JobSerializer)
    def post(self, request: Request, job_id: int) -> Response:
        job = selectors.job_get_for_user(user=request.user, job_id=job_id)
        self.check_object_permissions(request, job)
        services.job_cancel(job=job)
        job = selectors.job_get_for_user(user=request.user, job_id=job_id)
        return Response(JobSerializer(job).data)


class JobLogsApi(APIView):
    permission_classes = [IsMemberAdminWrites]

    @extend_schema(responses=JobLogSerializer)
    def get(self, request: Request, job_id: int) -> Response:
        job = selectors.job_get_for_user(user=request.user, job_id=job_id)
        self.check_object_permissions(request, job)
        return Response(_log(job, 200))


class JobMetricsApi(APIView):
    permission_classes = [IsMemberAdminWrites]

    @extend_schema(responses=page_of(JobMetricSerializer))
    def get(self, request: Request, job_id: int) -> Response:
        job = selectors.job_get_for_user(user=request.user, job_id=job_id)
        self.check_object_permissions(request, job)
        return paginated(request, self, selectors.job_metrics(job=job), JobMetricSerializer)


class JobProgressApi(APIView):
    """What the jobs page polls (every second or two): the job, new metric points, the log."""

    permission_classes = [IsMemberAdminWrites]

    @extend_schema(parameters=[JobProgressInput], responses=JobProgressSerializer)
    def get(self, request: Request, job_id: int) -> Response:
        query = validated(JobProgressInput, request.query_params.dict())
        job = selectors.job_get_for_user(user=request.user, job_id=job_id)
        self.check_object_permissions(request, job)
        points = selectors.job_metrics(job=job, after_step=query["after_step"])
        return Response(
            {
                "job": JobSerializer(job).data,
                "metrics": JobMetricSerializer(points[:1000], many=True).data,
                "log": _log(job, query["log_lines"]),
            }
        )


def _log(job: object, lines: int) -> dict[str, object]:
    tail = (getattr(job, "log_tail", "") or "").splitlines()
    return {"lines": tail[-lines:] if lines else [], "total": getattr(job, "log_lines", 0)}


class ModelVersionListApi(APIView):
    @extend_schema(parameters=[ProjectFilterInput], responses=page_of(ModelVersionSerializer))
    def get(self, request: Request) -> Response:
        filters = validated(ProjectFilterInput, request.query_params.dict())
        versions = selectors.model_version_list_for_user(
            user=request.user, project_id=filters.get("project")
        )
        return paginated(request, self, versions, ModelVersionSerializer)


class ModelVersionDetailApi(APIView):
    permission_classes = [IsMemberAdminWrites]

    @extend_schema(responses=ModelVersionDetailSerializer)
    def get(self, request: Request, version_id: int) -> Response:
        version = selectors.model_version_get_for_user(user=request.user, version_id=version_id)
        self.check_object_permissions(request, version)
        return Response(ModelVersionDetailSerializer(version).data)


class ModelVersionActivateApi(APIView):
    permission_classes = [IsMemberAdminWrites]

    @extend_schema(request=None, responses=ModelVersionSerializer)
    def post(self, request: Request, version_id: int) -> Response:
        version = selectors.model_version_get_for_user(user=request.user, version_id=version_id)
        self.check_object_permissions(request, version)
        services.model_version_activate(version=version)
        version = selectors.model_version_get_for_user(user=request.user, version_id=version_id)
        return Response(ModelVersionSerializer(version).data)


class ModelVersionCheckpointApi(APIView):
    permission_classes = [IsProjectAdmin]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request: Request, version_id: int) -> HttpResponse:
        version = selectors.model_version_get_for_user(user=request.user, version_id=version_id)
        self.check_object_permissions(request, version)
        name = f"sightline-p{version.project_id}-v{version.number}-{version.method}.safetensors"
        return file_response(
            default_storage.open(version.checkpoint, "rb"),
            content_type="application/octet-stream",
            filename=name,
        )


class ModelVersionCompareApi(APIView):
    @extend_schema(parameters=[CompareInput], responses=ComparisonSerializer)
    def get(self, request: Request) -> Response:
        query = validated(CompareInput, request.query_params.dict())
        a = selectors.model_version_get_for_user(user=request.user, version_id=query["a"])
        b = selectors.model_version_get_for_user(user=request.user, version_id=query["b"])
        comparison = selectors.model_version_compare(a=a, b=b)
        return Response(
            {
                "a": ModelVersionSerializer(a).data,
                "b": ModelVersionSerializer(b).data,
                **comparison,
            }
        )


class ExplanationMapListApi(APIView):
    permission_classes = [IsMemberAdminWrites]

    @extend_schema(parameters=[ArtifactFilterInput], responses=page_of(ExplanationMapSerializer))
    def get(self, request: Request, version_id: int) -> Response:
        version = selectors.model_version_get_for_user(user=request.user, version_id=version_id)
        self.check_object_permissions(request, version)
        query = validated(ArtifactFilterInput, request.query_params.dict())
        maps = selectors.explanation_map_list(
            version=version, image_id=query.get("image"), method=query.get("method")
        )
        return paginated(request, self, maps, ExplanationMapSerializer)


class RefinedPromptListApi(APIView):
    permission_classes = [IsMemberAdminWrites]

    @extend_schema(parameters=[ArtifactFilterInput], responses=page_of(RefinedPromptSerializer))
    def get(self, request: Request, version_id: int) -> Response:
        version = selectors.model_version_get_for_user(user=request.user, version_id=version_id)
        self.check_object_permissions(request, version)
        query = validated(ArtifactFilterInput, request.query_params.dict())
        refined = selectors.refined_prompt_list(
            version=version, image_id=query.get("image"), prompt_id=query.get("prompt")
        )
        return paginated(request, self, refined, RefinedPromptSerializer)


class ExplanationMapPngApi(APIView):
    permission_classes = [IsMemberAdminWrites]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(responses=BINARY_PNG)
    def get(self, request: Request, map_id: int) -> HttpResponse:
        record = selectors.explanation_map_get_for_user(user=request.user, map_id=map_id)
        self.check_object_permissions(request, record)
        return png_response(artifact_read(record.file), cache_seconds=_ARTIFACT_CACHE_SECONDS)


class RefinedPromptPngApi(APIView):
    permission_classes = [IsMemberAdminWrites]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(responses=BINARY_PNG)
    def get(self, request: Request, refined_id: int) -> HttpResponse:
        record = selectors.refined_prompt_get_for_user(user=request.user, refined_id=refined_id)
        self.check_object_permissions(request, record)
        return png_response(artifact_read(record.file), cache_seconds=_ARTIFACT_CACHE_SECONDS)


class PredictionCreateApi(APIView):
    """Asks a worker for a prediction; 200 when it answered in time, else 202 (poll the id)."""

    permission_classes = [AnyMemberWrites]
    parser_classes = [JSONParser]

    @extend_schema(
        request=PredictionCreateInput,
        responses={200: PredictionSerializer, 202: PredictionSerializer},
    )
    def post(self, request: Request) -> Response:
        data = validated(PredictionCreateInput, request.data)
        image = labeling_selectors.image_get_for_user(user=request.user, image_id=data["image"])
        self.check_object_permissions(request, image)
        version = _version_for_prediction(request, image.project_id, data.get("model_version"))
        prompt_version = _prompt_version(request, image, data.get("prompt"), data["use_prompt"])
        prediction = services.prediction_request(
            user=request.user,
            model_version=version,
            image=image,
            prompt_version=prompt_version,
            use_prompt=data["use_prompt"],
        )
        prediction = services.prediction_wait(prediction=prediction, timeout_ms=data.get("wait_ms"))
        code = (
            status.HTTP_202_ACCEPTED
            if prediction.status == PredictionStatus.PENDING
            else status.HTTP_200_OK
        )
        return Response(PredictionSerializer(prediction).data, status=code)


def _version_for_prediction(
    request: Request, project_id: int, version_id: int | None
) -> ModelVersion:
    if version_id is not None:
        version = selectors.model_version_get_for_user(user=request.user, version_id=version_id)
        if version.project_id != project_id:
            raise ApplicationError(
                "the model version belongs to another project than the image", code="invalid"
            )
        return version
    active = (
        selectors.model_version_list_for_user(user=request.user, project_id=project_id)
        .filter(is_active=True)
        .first()
    )
    if active is None:
        raise ApplicationError(
            "the project has no active model version; train one first", code="no_model_version"
        )
    return active


def _prompt_version(request: Request, image: object, prompt_id: int | None, use_prompt: bool):
    if not use_prompt:
        return None
    if prompt_id is not None:
        prompt = labeling_selectors.prompt_get_for_user(user=request.user, prompt_id=prompt_id)
        if prompt.image_id != image.pk:
            raise ApplicationError("the prompt belongs to another image", code="invalid")
    else:
        prompt = labeling_selectors.prompt_list_for_image(image=image).first()
        if prompt is None:
            raise ApplicationError(
                "the image has no prompt; draw one or predict without a prompt",
                code="no_prompt",
            )
    if prompt.current_id is None:
        raise ApplicationError("the prompt has no saved version yet", code="no_prompt")
    return prompt.current


class PredictionDetailApi(APIView):
    permission_classes = [AnyMemberWrites]

    @extend_schema(responses=PredictionSerializer)
    def get(self, request: Request, prediction_id: int) -> Response:
        prediction = selectors.prediction_get_for_user(
            user=request.user, prediction_id=prediction_id
        )
        self.check_object_permissions(request, prediction)
        return Response(PredictionSerializer(prediction).data)


class PredictionMapApi(APIView):
    permission_classes = [AnyMemberWrites]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(responses=BINARY_PNG)
    def get(self, request: Request, prediction_id: int, which: str) -> HttpResponse:
        prediction = selectors.prediction_get_for_user(
            user=request.user, prediction_id=prediction_id
        )
        self.check_object_permissions(request, prediction)
        data = selectors.prediction_png(prediction=prediction, which=which)
        if data is None:
            raise labeling_selectors.not_found()
        return png_response(data, cache_seconds=_ARTIFACT_CACHE_SECONDS)
