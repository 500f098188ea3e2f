"""Labeling API routes, mounted under ``/api/v1/`` (see the REST contract)."""

from django.urls import path

from labeling.apis import auth, datasets, images, projects, prompts

app_name = "labeling"

urlpatterns = [
    path("auth/login/", auth.LoginApi.as_view(), name="auth-login"),
    path("auth/logout/", auth.LogoutApi.as_view(), name="auth-logout"),
    path("auth/me/", auth.MeApi.as_view(), name="auth-me"),
    path("auth/token/", auth.TokenApi.as_view(), name="auth-token"),
    path("projects/", projects.ProjectListApi.as_view(), name="project-list"),
    path("projects/<int:project_id>/", projects.ProjectDetailApi.as_view(), name="project-detail"),
    path(
        "projects/<int:project_id>/members/",
        projects.MemberListApi.as_view(),
        name="member-list",
    ),
    path(
        "projects/<int:project_id>/members/<int:user_id>/",
        projects.MemberDetailApi.as_view(),
        name="member-detail",
    ),
    path("projects/<int:project_id>/images/", images.ImageListApi.as_view(), name="image-list"),
    path("projects/<int:project_id>/imports/", datasets.ImportApi.as_view(), name="import"),
    path("projects/<int:project_id>/export/", datasets.ExportApi.as_view(), name="export"),
    path("images/<int:image_id>/", images.ImageDetailApi.as_view(), name="image-detail"),
    path("images/<int:image_id>/display/", images.ImageDisplayApi.as_view(), name="image-display"),
    path(
        "images/<int:image_id>/thumbnail/",
        images.ImageThumbnailApi.as_view(),
        name="image-thumbnail",
    ),
    path(
        "images/<int:image_id>/original/", images.ImageOriginalApi.as_view(), name="image-original"
    ),
    path(
        "images/<int:image_id>/explanation/",
        images.ImageExplanationApi.as_view(),
        name="image-explanation",
    ),
    path(
        "images/<int:image_id>/prompts/",
        prompts.ImagePromptListApi.as_view(),
        name="image-prompts",
    ),
    path("images/<int:image_id>/prompts/mine/", prompts.MyPromptApi.as_view(), name="my-prompt"),
    path("prompts/<int:prompt_id>/", prompts.PromptDetailApi.as_view(), name="prompt-detail"),
    path("prompts/<int:prompt_id>/mask/", prompts.PromptMaskApi.as_view(), name="prompt-mask"),
    path(
        "prompts/<int:prompt_id>/history/",
        prompts.PromptHistoryApi.as_view(),
        name="prompt-history",
    ),
]
