"""Rule-based selections: preview, save, list, and send on to annotation or a rating study."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling import selectors
from labeling.apis.common import page_of, paginated, validated
from labeling.apis.studies import study_response
from labeling.models import Image, Project, Selection
from labeling.permissions import IsMemberAdminWrites
from labeling.selectors import selections as selection_selectors
from labeling.serializers import ImageSerializer
from labeling.serializers.reports import AnnotationQueueInput, SelectionPreviewSerializer
from labeling.serializers.review import (
    SelectionCreateInput,
    SelectionRulesInput,
    SelectionSerializer,
    StudySerializer,
    StudySetupInput,
)
from labeling.services import selections as selection_services
from labeling.services import studies as study_services

PREVIEW_IMAGES = 100


def _project(view: APIView, request: Request, project_id: int) -> Project:
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    view.check_object_permissions(request, project)
    return project


def _images(request: Request, project: Project, ids: list[int]) -> QuerySet[Image]:
    images = selectors.image_list_for_user(
        user=request.user, project=project, filters=selectors.ImageFilters()
    )
    return images.filter(pk__in=ids)


class SelectionPreviewApi(APIView):
    """How many and which images match some rules, without saving: every member may browse
    (the only write is the derived energy refresh)."""

    permission_classes = [IsMemberAdminWrites]
    parser_classes = [JSONParser]

    @extend_schema(request=SelectionRulesInput, responses=SelectionPreviewSerializer)
    def post(self, request: Request, project_id: int) -> Response:
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        rules = selection_selectors.SelectionRules.from_dict(
            validated(SelectionRulesInput, request.data)
        )
        ids = selection_services.selection_evaluate(project=project, rules=rules)
        first = _images(request, project, ids[:PREVIEW_IMAGES])
        return Response(
            {
                "count": len(ids),
                "image_ids": ids,
                "images": ImageSerializer(first.order_by("name", "pk"), many=True).data,
                "rules": rules.as_dict(),
            }
        )


class SelectionListApi(APIView):
    permission_classes = [IsMemberAdminWrites]
    parser_classes = [JSONParser]

    @extend_schema(responses=page_of(SelectionSerializer))
    def get(self, request: Request, project_id: int) -> Response:
        project = _project(self, request, project_id)
        rows = selection_selectors.selection_list_for_user(user=request.user, project=project)
        return paginated(request, self, rows, SelectionSerializer)

    @extend_schema(request=SelectionCreateInput, responses={201: SelectionSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        project = _project(self, request, project_id)
        data = validated(SelectionCreateInput, request.data)
        selection = selection_services.selection_create(
            project=project,
            name=data["name"],
            rules=selection_selectors.SelectionRules.from_dict(data["rules"]),
            created_by=request.user,
        )
        return Response(SelectionSerializer(selection).data, status=status.HTTP_201_CREATED)


class _SelectionApi(APIView):
    permission_classes = [IsMemberAdminWrites]
    parser_classes = [JSONParser]

    def _selection(self, request: Request, selection_id: int) -> Selection:
        selection = selection_selectors.selection_get_for_user(
            user=request.user, selection_id=selection_id
        )
        self.check_object_permissions(request, selection)
        return selection


class SelectionDetailApi(_SelectionApi):
    @extend_schema(responses=SelectionSerializer)
    def get(self, request: Request, selection_id: int) -> Response:
        return Response(SelectionSerializer(self._selection(request, selection_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, selection_id: int) -> Response:
        selection_services.selection_delete(selection=self._selection(request, selection_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SelectionImagesApi(_SelectionApi):
    @extend_schema(responses=page_of(ImageSerializer))
    def get(self, request: Request, selection_id: int) -> Response:
        selection = self._selection(request, selection_id)
        images = _images(request, selection.project, selection.image_ids)
        return paginated(request, self, images.order_by("name", "pk"), ImageSerializer)


class SelectionQueueApi(_SelectionApi):
    """POST puts the selection on the annotation queue; DELETE takes it off (admins)."""

    @extend_schema(request=None, responses=SelectionSerializer)
    def post(self, request: Request, selection_id: int) -> Response:
        selection = selection_services.selection_queue_for_annotation(
            selection=self._selection(request, selection_id)
        )
        return Response(SelectionSerializer(selection).data)

    @extend_schema(responses={200: SelectionSerializer})
    def delete(self, request: Request, selection_id: int) -> Response:
        selection = selection_services.selection_unqueue(
            selection=self._selection(request, selection_id)
        )
        return Response(SelectionSerializer(selection).data)


class SelectionStudyApi(_SelectionApi):
    """Creates a rating study over the selection's images in one call (admins)."""

    @extend_schema(request=StudySetupInput, responses={201: StudySerializer})
    def post(self, request: Request, selection_id: int) -> Response:
        selection = self._selection(request, selection_id)
        data = validated(StudySetupInput, request.data)
        study = study_services.study_create(
            project=selection.project,
            image_ids=selection.image_ids,
            selection=selection,
            created_by=request.user,
            **{
                **data,
                "conditions": [study_services.ConditionSpec(**c) for c in data["conditions"]],
            },
        )
        return study_response(request, study.pk, status.HTTP_201_CREATED)


class AnnotationQueueApi(APIView):
    """Images of the selections on the annotation queue (``?unprompted=true``: only those the
    caller has not prompted yet), in name order."""

    permission_classes = [IsMemberAdminWrites]

    @extend_schema(parameters=[AnnotationQueueInput], responses=page_of(ImageSerializer))
    def get(self, request: Request, project_id: int) -> Response:
        project = _project(self, request, project_id)
        unprompted = request.query_params.get("unprompted") in ("1", "true")
        ids = selection_selectors.annotation_queue_image_ids(
            project=project, user=request.user, unprompted_only=unprompted
        )
        images = _images(request, project, ids)
        return paginated(request, self, images.order_by("name", "pk"), ImageSerializer)
