"""The OpenAPI schema, plus the WebSocket protocol's models (schemas/protocol) in its components:
HTTP has routes to hang them on, WebSockets do not, and the UI's types are generated from this one
document (scripts/api-types.sh). Validation errors (422) are declared with the one error body
(api/errors.py) instead of FastAPI's own, which the sidecar never sends."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from sage_sidecar.api.errors import STATUS_MEANING
from sage_sidecar.schemas.protocol import json_schemas

_ERROR_BODY = "#/components/schemas/ErrorBody"
# The body of a multipart upload route, which reads the request stream itself (no FastAPI param).
MULTIPART_FILES: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object",
            "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
        }}},
    }
}  # fmt: skip


def install_protocol_schemas(app: FastAPI, before: Callable[[], None] = lambda: None) -> None:
    """`before` runs before the schema is first built (it mounts the routers still pending)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            before()
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            _declare_validation_errors(schema)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in json_schemas().items():
                # A model both a route and a frame use (e.g. `Citation`) is there already, from
                # the same class (FastAPI only drops `default: null`); a different model of the
                # same name would be a clash.
                existing = components.setdefault(name, definition)
                if existing.get("properties", {}).keys() != definition.get("properties", {}).keys():
                    raise RuntimeError(f"two different schemas named {name!r}")
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


_FASTAPI_VALIDATION = "#/components/schemas/HTTPValidationError"


def _declare_validation_errors(schema: dict[str, Any]) -> None:
    """Every 422 FastAPI added with its `HTTPValidationError` says `ErrorBody` instead, as
    api/errors.py answers it; FastAPI's two models leave the components."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            response = operation.get("responses", {}).get("422")
            content = (response or {}).get("content", {}).get("application/json", {})
            if content.get("schema", {}).get("$ref") == _FASTAPI_VALIDATION:
                operation["responses"]["422"] = {
                    "description": STATUS_MEANING[422],
                    "content": {"application/json": {"schema": {"$ref": _ERROR_BODY}}},
                }
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
