"""Object permissions by the caller's role in the object's project.

Selectors annotate each fetched project, image or prompt with ``my_role`` (``None`` for a
non-member; objects outside the caller's projects are never fetched at all, so outsiders get
404 before any permission runs). A view calls ``check_object_permissions`` with that object.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from labeling.models import Role

ALL_ROLES = frozenset(Role.values)
ADMIN = frozenset({Role.ADMIN})


class ProjectRolePermission(BasePermission):
    """Reads need a role in ``read_roles``, writes a role in ``write_roles``."""

    read_roles: frozenset[str] = ALL_ROLES
    write_roles: frozenset[str] = ADMIN
    message = "Your role in this project does not allow this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        # Default deny: these classes replace IsAuthenticated on the views that use them.
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request: Request, view: APIView, obj: object) -> bool:
        role = getattr(obj, "my_role", None)
        return role in (self.read_roles if request.method in SAFE_METHODS else self.write_roles)


class IsMemberAdminWrites(ProjectRolePermission):
    """Every member reads; only admins write (projects, members, images)."""


class IsProjectAdmin(ProjectRolePermission):
    """Admins only, for reads too (import, export)."""

    read_roles = ADMIN


class CanWritePrompts(ProjectRolePermission):
    """Every member reads prompts; annotators and admins write their own."""

    write_roles = frozenset({Role.ADMIN, Role.ANNOTATOR})


class CanReadExplanations(ProjectRolePermission):
    """Ground-truth explanations are for admins and reviewers (evaluation), not annotators."""

    read_roles = frozenset({Role.ADMIN, Role.REVIEWER})


class CanReview(ProjectRolePermission):
    """Every member reads reviews; reviewers and admins answer (annotators do not review)."""

    write_roles = frozenset({Role.ADMIN, Role.REVIEWER})
