"""The OpenAPI description at ``/api/schema/`` is complete: generated without a warning or an
error, valid, and it documents lists, path parameters and the error shape of every operation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS

from tests.platform.test_permission_table import api_endpoints

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out: Path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    GENERATOR_STATS.reset()  # warnings of an earlier generation in this process are not ours
    # --fail-on-warn raises SchemaGenerationError on any warning or error; --validate checks
    # the result against the OpenAPI 3 meta-schema.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    return yaml.safe_load(out.read_text())


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_schema_generates_without_warnings_and_validates(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.")
    assert not GENERATOR_STATS, "the generator reported warnings or errors"


def test_every_api_endpoint_and_method_is_documented(schema: dict[str, Any]) -> None:
    documented = {(path, method) for path, method, _ in _operations(schema)}
    assert len(documented) == len(set(api_endpoints()))
    assert all(path.startswith("/api/v1/") for path, _ in documented)


def test_operation_ids_are_unique_and_lists_are_named_as_lists(schema: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in _operations(schema)]
    assert len(ids) == len(set(ids))
    assert not any(i[-1].isdigit() for i in ids), "spectacular resolved a collision by a suffix"
    lists = {i for i in ids if i.endswith("_list")}
    assert {"v1_jobs_list", "v1_projects_studies_list", "v1_studies_items_list"} <= lists


ERROR = {"$ref": "#/components/schemas/Error"}


def _alternatives(schema: dict[str, Any], body: dict[str, Any]) -> list[dict[str, Any]]:
    """The body schema itself, or the alternatives of the ``oneOf`` component it names."""
    name = body.get("$ref", "").removeprefix("#/components/schemas/")
    return [body, *schema["components"]["schemas"].get(name, {}).get("oneOf", [])]


def test_every_operation_documents_a_success_and_the_error_shape(schema: dict[str, Any]) -> None:
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        assert any(code.startswith("2") for code in responses), (path, method)
        for code in ("400", "403", "404") + (("409",) if method != "get" else ()):
            content = responses[code]["content"]["application/json"]["schema"]
            assert ERROR in _alternatives(schema, content), (path, method, code)
    error = schema["components"]["schemas"]["ErrorDetail"]
    assert set(error["properties"]) == {"code", "message", "detail"}


def test_paginated_lists_document_their_page_parameters(schema: dict[str, Any]) -> None:
    for path, method, operation in _operations(schema):
        page = operation["responses"].get("200", {}).get("content", {}).get("application/json")
        if page and page["schema"].get("$ref", "").startswith("#/components/schemas/Paginated"):
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            assert {"page", "page_size"} <= names, (path, method)


def test_path_parameters_are_integers_where_the_route_says_int(schema: dict[str, Any]) -> None:
    for path, _, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"] != "which":
                assert parameter["schema"]["type"] == "integer", (path, parameter)
