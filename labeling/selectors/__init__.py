"""Reads of the labeling app: every selector takes the acting user or an object already
fetched through one that did, so visibility is decided in ``labeling.selectors.common`` only."""

from labeling.selectors.common import not_found, role_expression, visible_projects_q
from labeling.selectors.images import (
    ORDERINGS,
    ImageFilters,
    explanation_get,
    image_display_png,
    image_get_for_user,
    image_get_with_role,
    image_list_for_user,
)
from labeling.selectors.projects import (
    ProjectRole,
    member_get,
    member_list,
    project_get_for_user,
    project_get_with_role,
    project_list_for_user,
)
from labeling.selectors.prompts import (
    prompt_get_for_user,
    prompt_get_mine,
    prompt_get_mine_on_image,
    prompt_list_for_image,
    prompt_version_get,
    prompt_version_list,
)

__all__ = [
    "ORDERINGS",
    "ImageFilters",
    "ProjectRole",
    "explanation_get",
    "image_display_png",
    "image_get_for_user",
    "image_get_with_role",
    "image_list_for_user",
    "member_get",
    "member_list",
    "not_found",
    "project_get_for_user",
    "project_get_with_role",
    "project_list_for_user",
    "prompt_get_for_user",
    "prompt_get_mine",
    "prompt_get_mine_on_image",
    "prompt_list_for_image",
    "prompt_version_get",
    "prompt_version_list",
    "role_expression",
    "visible_projects_q",
]
