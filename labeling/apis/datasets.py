"""Import and export of whole datasets in the interchange format (METHODS.md section 7)."""

from __future__ import annotations

import tempfile

from django.http import FileResponse
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling import selectors, services
from labeling.apis.common import FirstRendererNegotiation, file_response, validated
from labeling.models import Project
from labeling.permissions import IsProjectAdmin
from labeling.serializers import ImportInput, ImportResultSerializer
from sightline.schema import errors


def _project(view: APIView, request: Request, project_id: int) -> Project:
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    view.check_object_permissions(request, project)
    return project


class ImportApi(APIView):
    permission_classes = [IsProjectAdmin]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": ImportInput},
        responses={200: ImportResultSerializer, **errors(429)},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = _project(self, request, project_id)
        upload = validated(ImportInput, request.data)["file"]
        result = services.dataset_import(project=project, source=upload, user=request.user)
        return Response(ImportResultSerializer(result).data)


class ExportApi(APIView):
    permission_classes = [IsProjectAdmin]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request: Request, project_id: int) -> FileResponse:
        project = _project(self, request, project_id)
        # An unnamed temporary file that FileResponse closes (and so removes) once it is sent.
        archive = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            services.dataset_export(project=project, out=archive)
        except BaseException:
            archive.close()
            raise
        archive.seek(0)
        name = f"{slugify(project.name) or 'project'}.zip"
        return file_response(archive, content_type="application/zip", filename=name)
