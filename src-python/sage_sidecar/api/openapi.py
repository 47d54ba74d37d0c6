"""The OpenAPI schema, plus the WebSocket protocol's models (schemas/protocol) in its components:
HTTP has routes to hang them on, WebSockets do not, and the UI's types are generated from this one
document (scripts/api-types.sh)."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from sage_sidecar.schemas.protocol import json_schemas


def install_protocol_schemas(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
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
