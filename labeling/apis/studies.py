"""Rating studies: set-up and report for admins, blind items and answers for their reviewers."""

from __future__ import annotations

import csv
import io
import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling import selectors
from labeling.apis.common import (
    BINARY_PNG,
    FirstRendererNegotiation,
    page_of,
    paginated,
    png_response,
    validated,
)
from labeling.models import RatingStudy, Role, Selection, StudyPresentation
from labeling.permissions import IsMemberAdminWrites, IsProjectAdmin
from labeling.selectors import selections as selection_selectors
from labeling.selectors import studies as study_selectors
from labeling.serializers.reports import (
    StudyItemRowSerializer,
    StudyNextItemSerializer,
    StudyReportSerializer,
)
from labeling.serializers.review import (
    ExportInput,
    PresentationSerializer,
    RatingInput,
    RatingSerializer,
    StudyCreateInput,
    StudySerializer,
)
from labeling.services import studies as study_services

EXPORT_COLUMNS = (
    "study",
    "reviewer",
    "image_id",
    "image",
    "label",
    "item_position",
    "condition",
    "condition_kind",
    "model_version",
    "slot",
    "q1_needed",
    "q2_unneeded",
    "reasonable",
    "likert",
    "complete",
    "updated_at",
)


def study_response(request: Request, study_id: int, code: int = status.HTTP_200_OK) -> Response:
    """A study as the caller may see it (condition names and progress for admins only)."""
    study = study_selectors.study_get_for_user(user=request.user, study_id=study_id)
    context = {}
    if study.my_role == Role.ADMIN:
        context["admin_details"] = {
            "conditions": study_selectors.study_conditions(study=study),
            "progress": study_selectors.study_progress(study=study),
        }
    return Response(StudySerializer(study, context=context).data, status=code)


class StudyListApi(APIView):
    permission_classes = [IsMemberAdminWrites]
    parser_classes = [JSONParser]

    @extend_schema(responses=page_of(StudySerializer))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        self.check_object_permissions(request, project)
        studies = study_selectors.study_list_for_user(user=request.user, project=project)
        return paginated(request, self, studies, StudySerializer)

    @extend_schema(request=StudyCreateInput, responses={201: StudySerializer})
    def post(self, request: Request, project_id: int) -> Response:
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        self.check_object_permissions(request, project)
        data = validated(StudyCreateInput, request.data)
        selection: Selection | None = None
        selection_id = data.pop("selection")
        if selection_id is not None:
            selection = selection_selectors.selection_get_for_user(
                user=request.user, selection_id=selection_id
            )
            if selection.project_id != project.pk:
                raise selectors.not_found()
        image_ids = data.pop("image_ids") or (selection.image_ids if selection else [])
        conditions = [study_services.ConditionSpec(**c) for c in data.pop("conditions")]
        study = study_services.study_create(
            project=project,
            image_ids=image_ids,
            conditions=conditions,
            selection=selection,
            created_by=request.user,
            **data,
        )
        return study_response(request, study.pk, status.HTTP_201_CREATED)


class _StudyApi(APIView):
    permission_classes = [IsMemberAdminWrites]
    parser_classes = [JSONParser]

    def _study(self, request: Request, study_id: int) -> RatingStudy:
        study = study_selectors.study_get_for_user(user=request.user, study_id=study_id)
        self.check_object_permissions(request, study)
        return study


class StudyDetailApi(_StudyApi):
    @extend_schema(responses=StudySerializer)
    def get(self, request: Request, study_id: int) -> Response:
        self._study(request, study_id)
        return study_response(request, study_id)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, study_id: int) -> Response:
        study_services.study_delete(study=self._study(request, study_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class StudyCloseApi(_StudyApi):
    @extend_schema(request=None, responses=StudySerializer)
    def post(self, request: Request, study_id: int) -> Response:
        study_services.study_close(study=self._study(request, study_id))
        return study_response(request, study_id)


def _items_response(request: Request, items: list[StudyPresentation]) -> list[dict]:
    ratings: dict[int, dict] = {}
    for item in items:
        ratings[item.pk] = study_selectors.presentation_ratings(presentation=item)
    return PresentationSerializer(items, many=True, context={"ratings": ratings}).data


class StudyItemListApi(_StudyApi):
    """The caller's own items of a study, in their order (without slots)."""

    @extend_schema(responses=StudyItemRowSerializer(many=True))
    def get(self, request: Request, study_id: int) -> Response:
        study = self._study(request, study_id)
        items = study_selectors.presentation_list(study=study, user=request.user)
        rows = [
            {
                "id": item.pk,
                "position": item.position + 1,
                "done": item.done,
                "slots": len(item.order),
                "image_name": item.study_image.image.name,
            }
            for item in items
        ]
        return Response(rows)


class StudyNextItemApi(_StudyApi):
    """The caller's first unfinished item (``item`` null when all are done) and progress."""

    @extend_schema(responses=StudyNextItemSerializer)
    def get(self, request: Request, study_id: int) -> Response:
        study = self._study(request, study_id)
        item = study_selectors.presentation_next(study=study, user=request.user)
        study = study_selectors.study_get_for_user(user=request.user, study_id=study_id)
        progress = {"done": study.my_done, "total": study.my_presented * study.condition_count}
        body = _items_response(request, [item])[0] if item is not None else None
        return Response({"item": body, "progress": progress, "status": study.status})


class StudyReportApi(_StudyApi):
    permission_classes = [IsProjectAdmin]

    @extend_schema(responses=StudyReportSerializer)
    def get(self, request: Request, study_id: int) -> Response:
        return Response(study_selectors.study_report(study=self._study(request, study_id)))


class StudyExportApi(_StudyApi):
    """Every rating of the study as CSV (one row per rating) or JSON (report and ratings)."""

    permission_classes = [IsProjectAdmin]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        parameters=[ExportInput],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): OpenApiTypes.OBJECT,
        },
    )
    def get(self, request: Request, study_id: int) -> HttpResponse:
        study = self._study(request, study_id)
        fmt = validated(ExportInput, request.query_params.dict())["format"]
        rows = study_selectors.study_rating_rows(study=study)
        stem = f"study-{study.pk}-ratings"
        if fmt == "json":
            body = json.dumps(
                {"report": study_selectors.study_report(study=study), "ratings": rows}, indent=1
            )
            response = HttpResponse(body, content_type="application/json")
        else:
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            response = HttpResponse(buffer.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
        return response


class _ItemApi(APIView):
    parser_classes = [JSONParser]

    def _item(self, request: Request, item_id: int) -> StudyPresentation:
        return study_selectors.presentation_get_for_user(user=request.user, presentation_id=item_id)


class StudyItemApi(_ItemApi):
    @extend_schema(responses=PresentationSerializer)
    def get(self, request: Request, item_id: int) -> Response:
        return Response(_items_response(request, [self._item(request, item_id)])[0])


class StudyItemMapApi(_ItemApi):
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(responses=BINARY_PNG)
    def get(self, request: Request, item_id: int, slot: int) -> HttpResponse:
        png = study_selectors.study_map_png(presentation=self._item(request, item_id), slot=slot)
        return png_response(png, cache_seconds=300)


class StudyRatingApi(_ItemApi):
    """PUT the answers given so far on one slot; each answer is saved as it is given."""

    @extend_schema(request=RatingInput, responses=RatingSerializer)
    def put(self, request: Request, item_id: int, slot: int) -> Response:
        rating = study_services.rating_save(
            presentation=self._item(request, item_id),
            slot=slot,
            **validated(RatingInput, request.data),
        )
        return Response(RatingSerializer(rating).data)
