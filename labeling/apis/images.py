"""Images: filtered lists, multi-file upload, details, renditions and explanations."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling import listcache, selectors, services
from labeling.apis.common import (
    BINARY_PNG,
    FirstRendererNegotiation,
    file_response,
    page_of,
    paginated,
    png_response,
    validated,
)
from labeling.models import Image, ImageFormat
from labeling.permissions import CanReadExplanations, IsMemberAdminWrites
from labeling.serializers import (
    ImageDetailSerializer,
    ImageFilterInput,
    ImageSerializer,
    ImageUpdateInput,
    ImageUploadInput,
    UploadResultSerializer,
    WindowInput,
)
from sightline.errors import ErrorSerializer
from sightline.renderers import RenderedJSON, render_json
from sightline.schema import errors

_CONTENT_TYPES = {
    ImageFormat.PNG: "image/png",
    ImageFormat.JPEG: "image/jpeg",
    ImageFormat.TIFF: "image/tiff",
    ImageFormat.DICOM: "application/dicom",
}
_RENDITION_CACHE_SECONDS = 3600


class ImageListApi(APIView):
    permission_classes = [IsMemberAdminWrites]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(parameters=[ImageFilterInput], responses=page_of(ImageSerializer))
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.project_get_with_role(user=request.user, project_id=project_id)
        self.check_object_permissions(request, project)

        def page() -> bytes:  # a cached page's query was valid when it was computed
            query = validated(ImageFilterInput, request.query_params.dict())
            filters = selectors.ImageFilters(**query)
            images = selectors.image_list_for_user(
                user=request.user, project=project, filters=filters
            )
            return render_json(paginated(request, self, images, ImageSerializer).data)

        # Every member sees the same page until the project's images change (labeling.listcache),
        # kept as the JSON it is sent as (sightline.renderers).
        name = "json " + request.build_absolute_uri()
        return Response(RenderedJSON(listcache.cached_page(project.pk, name, page)))

    @extend_schema(
        request={"multipart/form-data": ImageUploadInput},
        responses={
            201: UploadResultSerializer,
            400: PolymorphicProxySerializer(
                component_name="UploadRefusal",
                serializers=[UploadResultSerializer, ErrorSerializer],
                resource_type_field_name=None,
            ),
            **errors(429),
        },
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = selectors.project_get_for_user(user=request.user, project_id=project_id)
        self.check_object_permissions(request, project)
        data = validated(ImageUploadInput, request.data)
        result = services.image_create_many(
            project=project,
            files=[(upload.name, upload) for upload in data["files"]],
            created_by=request.user,
            label=data["label"],
            split=data["split"],
        )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_400_BAD_REQUEST
        return Response(UploadResultSerializer(result).data, status=code)


class ImageDetailApi(APIView):
    permission_classes = [IsMemberAdminWrites]
    parser_classes = [JSONParser]

    def _image(self, request: Request, image_id: int) -> Image:
        image = selectors.image_get_for_user(user=request.user, image_id=image_id)
        self.check_object_permissions(request, image)
        return image

    @extend_schema(responses=ImageDetailSerializer)
    def get(self, request: Request, image_id: int) -> Response:
        return Response(ImageDetailSerializer(self._image(request, image_id)).data)

    @extend_schema(request=ImageUpdateInput, responses=ImageDetailSerializer)
    def patch(self, request: Request, image_id: int) -> Response:
        image = self._image(request, image_id)
        services.image_update(image=image, **validated(ImageUpdateInput, request.data))
        image = selectors.image_get_for_user(user=request.user, image_id=image_id)
        return Response(ImageDetailSerializer(image).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, image_id: int) -> Response:
        services.image_delete(image=self._image(request, image_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class _ImageFileApi(APIView):
    permission_classes = [IsMemberAdminWrites]
    content_negotiation_class = FirstRendererNegotiation

    def _image(self, request: Request, image_id: int) -> Image:
        image = selectors.image_get_for_user(user=request.user, image_id=image_id)
        self.check_object_permissions(request, image)
        return image


class ImageDisplayApi(_ImageFileApi):
    @extend_schema(parameters=[WindowInput], responses=BINARY_PNG)
    def get(self, request: Request, image_id: int) -> HttpResponse:
        image = self._image(request, image_id)
        window = validated(WindowInput, request.query_params.dict())
        png = selectors.image_display_png(image=image, **window)
        return png_response(png, cache_seconds=_RENDITION_CACHE_SECONDS)


class ImageThumbnailApi(_ImageFileApi):
    @extend_schema(responses=BINARY_PNG)
    def get(self, request: Request, image_id: int) -> FileResponse:
        image = self._image(request, image_id)
        response = FileResponse(default_storage.open(image.thumbnail.name, "rb"))
        response["Content-Type"] = "image/png"
        response["Cache-Control"] = f"private, max-age={_RENDITION_CACHE_SECONDS}"
        return response


class ImageOriginalApi(_ImageFileApi):
    @extend_schema(responses={(200, kind): OpenApiTypes.BINARY for kind in _CONTENT_TYPES.values()})
    def get(self, request: Request, image_id: int) -> FileResponse:
        image = self._image(request, image_id)
        handle = default_storage.open(image.original.name, "rb")
        return file_response(handle, content_type=_CONTENT_TYPES[image.format], filename=image.name)


class ImageExplanationApi(_ImageFileApi):
    permission_classes = [CanReadExplanations]

    @extend_schema(responses=BINARY_PNG)
    def get(self, request: Request, image_id: int) -> HttpResponse:
        explanation = selectors.explanation_get(image=self._image(request, image_id))
        return png_response(explanation.mask_png)
