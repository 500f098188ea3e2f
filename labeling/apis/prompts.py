"""Attention prompts: per-image lists, the caller's own prompt (GET/PUT), masks and history."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling import imaging, selectors, services
from labeling.apis.common import (
    FirstRendererNegotiation,
    PNGParser,
    page_of,
    paginated,
    parse_if_match,
    png_response,
    validated,
)
from labeling.models import AttentionPrompt, Image
from labeling.permissions import CanWritePrompts
from labeling.serializers import (
    MaskQueryInput,
    PromptSaveInput,
    PromptSerializer,
    PromptVersionSerializer,
    TargetClassInput,
    WindowInput,
    plain_target_class,
    prompt_data,
)
from sightline.schema import errors


def _image(view: APIView, request: Request, image_id: int) -> Image:
    image = selectors.image_get_for_user(user=request.user, image_id=image_id)
    view.check_object_permissions(request, image)
    return image


def _prompt(view: APIView, request: Request, prompt_id: int) -> AttentionPrompt:
    prompt = selectors.prompt_get_for_user(user=request.user, prompt_id=prompt_id)
    view.check_object_permissions(request, prompt)
    return prompt


def _matches(if_none_match: str | None, version: int) -> bool:
    """Whether an ``If-None-Match`` header names the prompt's version (weak comparison)."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/").strip('"') for tag in if_none_match.split(",")}
    return "*" in tags or str(version) in tags


class ImagePromptListApi(APIView):
    permission_classes = [CanWritePrompts]

    @extend_schema(responses=page_of(PromptSerializer))
    def get(self, request: Request, image_id: int) -> Response:
        prompts = selectors.prompt_list_for_image(image=_image(self, request, image_id))
        return paginated(request, self, prompts, PromptSerializer)


class MyPromptApi(APIView):
    """The caller's prompt on an image for one target class (default: label, else positive)."""

    permission_classes = [CanWritePrompts]
    parser_classes = [PNGParser, JSONParser]
    content_negotiation_class = FirstRendererNegotiation

    def _target(self, request: Request, image: Image) -> str:
        target = validated(TargetClassInput, request.query_params.dict()).get("target_class")
        return target or image.label or image.project.positive_class

    @extend_schema(parameters=[TargetClassInput], responses=PromptSerializer)
    def get(self, request: Request, image_id: int) -> Response:
        params = request.query_params.dict()
        plain, target = plain_target_class(params)
        if not plain:
            query = TargetClassInput(data=params)
            if not query.is_valid():
                _image(self, request, image_id)  # an invisible image is a 404 before a bad query
                query.is_valid(raise_exception=True)
            target = query.validated_data.get("target_class")
        # One query for the image's visibility and the prompt (the hot path: every member may
        # read their own prompt, see the selector), answered without the serializer.
        prompt = selectors.prompt_get_mine_on_image(
            user=request.user, image_id=image_id, target_class=target
        )
        etag = f'"{prompt.current_version}"'
        if _matches(request.headers.get("If-None-Match"), prompt.current_version):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        data = prompt_data(
            prompt_id=prompt.id,
            image_id=prompt.image_id,
            annotator=request.user,  # the caller's own prompt
            target_class=prompt.target_class,
            version=prompt.current_version,
            has_current=prompt.current_id is not None,
            window_center=prompt.window_center,
            window_width=prompt.window_width,
            counts=prompt.counts,
            updated_at=prompt.updated_at,
        )
        return Response(data, headers={"ETag": etag})

    @extend_schema(
        parameters=[TargetClassInput, WindowInput],
        request={"image/png": OpenApiTypes.BINARY, "application/json": PromptSaveInput},
        responses={200: PromptSerializer, **errors(428)},
    )
    def put(self, request: Request, image_id: int) -> Response:
        image = selectors.image_get_with_role(user=request.user, image_id=image_id)
        self.check_object_permissions(request, image)
        base = parse_if_match(request.headers.get("If-Match"))
        if request.content_type.startswith(PNGParser.media_type):
            mask: bytes | dict = request.data if isinstance(request.data, bytes) else b""
            window = validated(WindowInput, request.query_params.dict())
        else:
            data = validated(PromptSaveInput, request.data)
            mask = data.pop("mask")
            base = base if base is not None else data.pop("base_version", None)  # None: 428
            window = {key: data.get(key) for key in ("window_center", "window_width")}
        try:
            prompt, version = services.prompt_save(
                image=image,
                annotator=request.user,
                target_class=self._target(request, image),
                mask=mask,
                base_version=base,
                **window,
            )
        except services.PromptConflict as conflict:
            if conflict.prompt.current_version:
                conflict.detail["current"] = PromptSerializer(conflict.prompt).data
            raise
        data = prompt_data(
            prompt_id=prompt.pk,
            image_id=prompt.image_id,
            annotator=prompt.annotator,
            target_class=prompt.target_class,
            version=prompt.current_version,
            has_current=True,
            window_center=version.window_center,
            window_width=version.window_width,
            counts=version.counts,
            updated_at=prompt.updated_at,
        )
        return Response(data, headers={"ETag": f'"{version.version}"'})


class PromptDetailApi(APIView):
    permission_classes = [CanWritePrompts]

    @extend_schema(responses=PromptSerializer)
    def get(self, request: Request, prompt_id: int) -> Response:
        return Response(PromptSerializer(_prompt(self, request, prompt_id)).data)


class PromptMaskApi(APIView):
    permission_classes = [CanWritePrompts]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        parameters=[MaskQueryInput],
        responses={(200, "image/png"): OpenApiTypes.BINARY, (200, "application/json"): dict},
    )
    def get(self, request: Request, prompt_id: int) -> HttpResponse:
        prompt = _prompt(self, request, prompt_id)
        query = validated(MaskQueryInput, request.query_params.dict())
        version = selectors.prompt_version_get(
            prompt=prompt, version=query.get("version"), version_id=query.get("version_id")
        )
        if query["format"] == "rle":
            return Response(imaging.prompt_to_rle(imaging.prompt_from_png(bytes(version.mask_png))))
        return png_response(version.mask_png)


class PromptHistoryApi(APIView):
    permission_classes = [CanWritePrompts]

    @extend_schema(responses=page_of(PromptVersionSerializer))
    def get(self, request: Request, prompt_id: int) -> Response:
        versions = selectors.prompt_version_list(prompt=_prompt(self, request, prompt_id))
        return paginated(request, self, versions, PromptVersionSerializer)
