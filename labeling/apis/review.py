"""Reasonability review of a model version: the queue, answers, the matrix, adjudication."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling import selectors
from labeling.apis.common import page_of, paginated, validated
from labeling.permissions import CanReview, IsMemberAdminWrites
from labeling.selectors import review as review_selectors
from labeling.serializers.reports import AssessmentFilterInput, MatrixSerializer
from labeling.serializers.review import (
    AdjudicationInput,
    AdjudicationSerializer,
    AssessmentInput,
    AssessmentSerializer,
    CellInput,
    DecisionSerializer,
    MatrixInput,
    ReviewItemSerializer,
    ReviewQueueInput,
)
from labeling.services import review as review_services
from modeling.models import ModelVersion


class _VersionApi(APIView):
    parser_classes = [JSONParser]

    def _version(self, request: Request, version_id: int) -> ModelVersion:
        version = review_selectors.model_version_get_for_review(
            user=request.user, version_id=version_id
        )
        self.check_object_permissions(request, version)
        return version


class ReviewQueueApi(_VersionApi):
    """Images with a stored prediction of the version, their map and the caller's answers."""

    permission_classes = [CanReview]

    @extend_schema(parameters=[ReviewQueueInput], responses=page_of(ReviewItemSerializer))
    def get(self, request: Request, version_id: int) -> Response:
        version = self._version(request, version_id)
        query = validated(ReviewQueueInput, request.query_params.dict())
        items = review_selectors.review_queue(
            model_version=version,
            user=request.user,
            split=query.get("split"),
            pending_only=query["pending"],
        )
        return paginated(request, self, items, ReviewItemSerializer)


class AssessmentListApi(_VersionApi):
    permission_classes = [CanReview]

    @extend_schema(parameters=[AssessmentFilterInput], responses=page_of(AssessmentSerializer))
    def get(self, request: Request, version_id: int) -> Response:
        version = self._version(request, version_id)
        rows = review_selectors.assessment_list(
            model_version=version, reviewer=request.query_params.get("reviewer") or None
        )
        return paginated(request, self, rows, AssessmentSerializer)


class MyAssessmentApi(_VersionApi):
    """The caller's Q1/Q2 answers on one image (PUT records or changes them)."""

    permission_classes = [CanReview]

    @extend_schema(responses=AssessmentSerializer)
    def get(self, request: Request, version_id: int, image_id: int) -> Response:
        version = self._version(request, version_id)
        mine = review_selectors.assessment_list(
            model_version=version, image_id=image_id, reviewer=request.user.username
        ).first()
        if mine is None:
            raise selectors.not_found()
        return Response(AssessmentSerializer(mine).data)

    @extend_schema(request=AssessmentInput, responses=AssessmentSerializer)
    def put(self, request: Request, version_id: int, image_id: int) -> Response:
        version = self._version(request, version_id)
        image = selectors.image_get_for_user(user=request.user, image_id=image_id)
        assessment = review_services.assessment_submit(
            model_version=version,
            image=image,
            reviewer=request.user,
            **validated(AssessmentInput, request.data),
        )
        return Response(AssessmentSerializer(assessment).data)


class MatrixApi(_VersionApi):
    permission_classes = [CanReview]

    @extend_schema(parameters=[MatrixInput], responses=MatrixSerializer)
    def get(self, request: Request, version_id: int) -> Response:
        version = self._version(request, version_id)
        query = validated(MatrixInput, request.query_params.dict())
        matrix = review_selectors.review_matrix(
            model_version=version, split=query.get("split"), reviewer=query.get("reviewer")
        )
        return Response({"model_version": version.pk, "split": query.get("split"), **matrix})


class MatrixCellApi(_VersionApi):
    """The images of one matrix cell (``?quadrant=RA``), with every reviewer's answers."""

    permission_classes = [CanReview]

    @extend_schema(parameters=[CellInput], responses=DecisionSerializer(many=True))
    def get(self, request: Request, version_id: int) -> Response:
        version = self._version(request, version_id)
        query = validated(CellInput, request.query_params.dict())
        decisions = review_selectors.review_cell(
            model_version=version, quadrant=query["quadrant"], split=query.get("split")
        )
        return Response(DecisionSerializer(decisions, many=True).data)


class DisagreementListApi(_VersionApi):
    """Images whose reviewers disagree, with each answer and any adjudication."""

    permission_classes = [CanReview]

    @extend_schema(parameters=[MatrixInput], responses=DecisionSerializer(many=True))
    def get(self, request: Request, version_id: int) -> Response:
        version = self._version(request, version_id)
        query = validated(MatrixInput, request.query_params.dict())
        decisions = review_selectors.review_disagreements(
            model_version=version, split=query.get("split")
        )
        return Response(DecisionSerializer(decisions, many=True).data)


class AdjudicationApi(_VersionApi):
    """An admin's final decision on a disputed image (PUT sets it, DELETE withdraws it)."""

    permission_classes = [IsMemberAdminWrites]

    @extend_schema(request=AdjudicationInput, responses=AdjudicationSerializer)
    def put(self, request: Request, version_id: int, image_id: int) -> Response:
        version = self._version(request, version_id)
        image = selectors.image_get_for_user(user=request.user, image_id=image_id)
        adjudication = review_services.adjudication_set(
            model_version=version,
            image=image,
            decided_by=request.user,
            **validated(AdjudicationInput, request.data),
        )
        return Response(AdjudicationSerializer(adjudication).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, version_id: int, image_id: int) -> Response:
        version = self._version(request, version_id)
        image = selectors.image_get_for_user(user=request.user, image_id=image_id)
        review_services.adjudication_clear(model_version=version, image=image)
        return Response(status=status.HTTP_204_NO_CONTENT)
