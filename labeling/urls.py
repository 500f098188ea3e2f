"""Labeling API routes, mounted under ``/api/v1/`` (see the REST contract)."""

from django.urls import path

from labeling.apis import auth, datasets, images, projects, prompts, review, selections, studies

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
    # Reasonability review of a model version's attention maps.
    path(
        "model-versions/<int:version_id>/review/queue/",
        review.ReviewQueueApi.as_view(),
        name="review-queue",
    ),
    path(
        "model-versions/<int:version_id>/review/matrix/",
        review.MatrixApi.as_view(),
        name="review-matrix",
    ),
    path(
        "model-versions/<int:version_id>/review/cell/",
        review.MatrixCellApi.as_view(),
        name="review-cell",
    ),
    path(
        "model-versions/<int:version_id>/review/disagreements/",
        review.DisagreementListApi.as_view(),
        name="review-disagreements",
    ),
    path(
        "model-versions/<int:version_id>/assessments/",
        review.AssessmentListApi.as_view(),
        name="assessment-list",
    ),
    path(
        "model-versions/<int:version_id>/assessments/<int:image_id>/",
        review.MyAssessmentApi.as_view(),
        name="my-assessment",
    ),
    path(
        "model-versions/<int:version_id>/adjudications/<int:image_id>/",
        review.AdjudicationApi.as_view(),
        name="adjudication",
    ),
    # Rule-based selections and the annotation queue.
    path(
        "projects/<int:project_id>/selections/",
        selections.SelectionListApi.as_view(),
        name="selection-list",
    ),
    path(
        "projects/<int:project_id>/selections/preview/",
        selections.SelectionPreviewApi.as_view(),
        name="selection-preview",
    ),
    path(
        "projects/<int:project_id>/annotation-queue/",
        selections.AnnotationQueueApi.as_view(),
        name="annotation-queue",
    ),
    path(
        "selections/<int:selection_id>/",
        selections.SelectionDetailApi.as_view(),
        name="selection-detail",
    ),
    path(
        "selections/<int:selection_id>/images/",
        selections.SelectionImagesApi.as_view(),
        name="selection-images",
    ),
    path(
        "selections/<int:selection_id>/annotation-queue/",
        selections.SelectionQueueApi.as_view(),
        name="selection-queue",
    ),
    path(
        "selections/<int:selection_id>/study/",
        selections.SelectionStudyApi.as_view(),
        name="selection-study",
    ),
    # Rating studies.
    path("projects/<int:project_id>/studies/", studies.StudyListApi.as_view(), name="study-list"),
    path("studies/<int:study_id>/", studies.StudyDetailApi.as_view(), name="study-detail"),
    path("studies/<int:study_id>/close/", studies.StudyCloseApi.as_view(), name="study-close"),
    path("studies/<int:study_id>/items/", studies.StudyItemListApi.as_view(), name="study-items"),
    path(
        "studies/<int:study_id>/items/next/",
        studies.StudyNextItemApi.as_view(),
        name="study-next-item",
    ),
    path("studies/<int:study_id>/report/", studies.StudyReportApi.as_view(), name="study-report"),
    path("studies/<int:study_id>/export/", studies.StudyExportApi.as_view(), name="study-export"),
    path("study-items/<int:item_id>/", studies.StudyItemApi.as_view(), name="study-item"),
    path(
        "study-items/<int:item_id>/maps/<int:slot>/",
        studies.StudyItemMapApi.as_view(),
        name="study-item-map",
    ),
    path(
        "study-items/<int:item_id>/ratings/<int:slot>/",
        studies.StudyRatingApi.as_view(),
        name="study-rating",
    ),
]
