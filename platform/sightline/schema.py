"""The OpenAPI description of the API: drf-spectacular's, plus what every operation shares.

- Every operation documents the error answers it can give in the one error shape
  (``sightline.errors``): 400 (invalid input), 403 (not logged in, CSRF, or not allowed) and
  404 (not found, or not visible to the caller) and 503 (a database or broker outage); writes
  add 409 (a conflict with the current state). A view documents rarer ones itself with
  ``errors(...)`` (428, 429). There is no 401: session authentication comes first, so DRF
  answers an anonymous caller 403.
- A ``page_of`` response makes an operation a list: its id ends in ``_list`` and its ``page``
  and ``page_size`` query parameters are documented.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse

from sightline.errors import ErrorSerializer
from sightline.pagination import PageSerializer, Pagination

ERROR_DESCRIPTIONS = {
    400: "Invalid input.",
    403: "Not logged in, a failed CSRF check, or not allowed to do this.",
    404: "Not found, or not visible to the caller.",
    409: "Conflicts with the current state (a newer prompt version, a closed study, ...).",
    428: "A required precondition header (If-Match) is missing.",
    429: "Too many requests; retry after the Retry-After header's seconds.",
    503: "A service Sightline depends on is unavailable; retry after Retry-After seconds.",
}
COMMON_ERRORS = (400, 403, 404, 503)
WRITE_ERRORS = (409,)


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Error answers to add to an operation's ``responses`` (``{200: X, **errors(429)}``)."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
        for code in codes
    }


class AutoSchema(openapi.AutoSchema):
    def _main_response(self) -> Any:
        responses = self.get_response_serializers()
        if isinstance(responses, dict) and responses:
            return responses.get(200)
        return responses

    def _is_page(self) -> bool:
        main = self._main_response()
        return isinstance(main, type) and issubclass(main, PageSerializer)

    def get_operation_id(self) -> str:
        operation_id = super().get_operation_id()
        if self.method == "GET" and self._is_page():
            return operation_id.removesuffix("_retrieve").removesuffix("_list") + "_list"
        return operation_id

    def _get_pagination_parameters(self) -> list[dict[str, Any]]:
        if self.method == "GET" and self._is_page():
            return Pagination().get_schema_operation_parameters(self.view)
        return super()._get_pagination_parameters()

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes = COMMON_ERRORS + (WRITE_ERRORS if self.method != "GET" else ())
        for code, response in errors(*codes).items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    response.response, str(code), direction=direction
                )
                responses[str(code)]["description"] = response.description
        return responses
