"""Projects and their members."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling import listcache, selectors, services
from labeling.apis.common import page_of, paginated, validated
from labeling.models import Project
from labeling.permissions import IsMemberAdminWrites
from labeling.serializers import (
    MemberCreateInput,
    MemberSerializer,
    MemberUpdateInput,
    ProjectCreateInput,
    ProjectSerializer,
    ProjectUpdateInput,
)


class ProjectListApi(APIView):
    @extend_schema(responses=page_of(ProjectSerializer))
    def get(self, request: Request) -> Response:
        projects = selectors.project_list_for_user(user=request.user)
        return paginated(request, self, projects, ProjectSerializer)

    @extend_schema(request=ProjectCreateInput, responses={201: ProjectSerializer})
    def post(self, request: Request) -> Response:
        data = validated(ProjectCreateInput, request.data)
        project = services.project_create(creator=request.user, **data)
        project = selectors.project_get_for_user(user=request.user, project_id=project.pk)
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    permission_classes = [IsMemberAdminWrites]

    def _project(self, request: Request, project_id: int) -> Project:
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        self.check_object_permissions(request, project)
        return project

    @extend_schema(responses=ProjectSerializer)
    def get(self, request: Request, project_id: int) -> Response:
        access = selectors.project_get_with_role(user=request.user, project_id=project_id)
        self.check_object_permissions(request, access)

        def detail() -> Any:
            project = selectors.project_get_for_user(user=request.user, project_id=project_id)
            return ProjectSerializer(project).data

        # The image counts scan the project (100 ms at 100 000 images): kept until its images
        # change (labeling.listcache); the role is the caller's own.
        data = listcache.cached_page(project_id, "project-detail", detail)
        return Response({**data, "my_role": access.my_role})

    @extend_schema(request=ProjectUpdateInput, responses=ProjectSerializer)
    def patch(self, request: Request, project_id: int) -> Response:
        project = self._project(request, project_id)
        data = validated(ProjectUpdateInput, request.data)
        services.project_update(project=project, **data)
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        return Response(ProjectSerializer(project).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, project_id: int) -> Response:
        services.project_delete(project=self._project(request, project_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberListApi(APIView):
    permission_classes = [IsMemberAdminWrites]

    def _project(self, request: Request, project_id: int) -> Project:
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        self.check_object_permissions(request, project)
        return project

    @extend_schema(responses=page_of(MemberSerializer))
    def get(self, request: Request, project_id: int) -> Response:
        members = selectors.member_list(project=self._project(request, project_id))
        return paginated(request, self, members, MemberSerializer)

    @extend_schema(request=MemberCreateInput, responses={201: MemberSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        project = self._project(request, project_id)
        data = validated(MemberCreateInput, request.data)
        membership = services.member_add(project=project, **data)
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(APIView):
    permission_classes = [IsMemberAdminWrites]

    def _membership(self, request: Request, project_id: int, user_id: int) -> object:
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        self.check_object_permissions(request, project)
        return selectors.member_get(project=project, user_id=user_id)

    @extend_schema(request=MemberUpdateInput, responses=MemberSerializer)
    def patch(self, request: Request, project_id: int, user_id: int) -> Response:
        membership = self._membership(request, project_id, user_id)
        data = validated(MemberUpdateInput, request.data)
        membership = services.member_update(membership=membership, **data)
        return Response(MemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, project_id: int, user_id: int) -> Response:
        services.member_remove(membership=self._membership(request, project_id, user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
