"""The WebSocket protocol, defined once: every frame of `/ws/chat` and `/ws/events` in both
directions and the JSON columns they carry. docs/protocol.md documents them (a test checks it
names every frame and field); the UI's types are generated from `json_schemas()` through the
OpenAPI schema (scripts/api-types.sh).

Casing: frames and JSON columns are camelCase (`alias_generator=to_camel`); REST resources keep
FastAPI's snake_case fields (their JSON columns inside are camelCase all the same).
"""

from typing import Any, get_args

from pydantic import BaseModel, RootModel
from pydantic.json_schema import models_json_schema

from sage_sidecar.schemas.protocol.base import ProtocolModel, dump
from sage_sidecar.schemas.protocol.chat import AuthOk, ServerChatFrame
from sage_sidecar.schemas.protocol.client import AuthFrame, ClientChatFrame
from sage_sidecar.schemas.protocol.events import EventFrame
from sage_sidecar.schemas.protocol.parts import MessagePart

__all__ = ["ProtocolModel", "dump", "json_schemas", "frame_type", "frame_types", "members"]


# Named unions, so the schema (and the TypeScript generated from it) has one name for each.
class ClientChatFrames(RootModel[ClientChatFrame]):
    """A frame the UI sends on `/ws/chat` after `auth`."""


class ServerChatFrames(RootModel[ServerChatFrame]):
    """A frame the sidecar sends on `/ws/chat` after `auth.ok`."""


class EventFrames(RootModel[EventFrame]):
    """A frame the sidecar sends on `/ws/events` after `auth.ok`."""


class MessageParts(RootModel[MessagePart]):
    """One entry of a message's `parts`."""


UNIONS: dict[str, type[RootModel[Any]]] = {
    "ClientChatFrame": ClientChatFrames,
    "ServerChatFrame": ServerChatFrames,
    "EventFrame": EventFrames,
    "MessagePart": MessageParts,
}


def members(union: type[RootModel[Any]]) -> tuple[type[BaseModel], ...]:
    annotated = union.model_fields["root"].annotation
    return get_args(annotated)


def frame_type(model: type[BaseModel]) -> str:
    """The `type` literal of a frame or part model."""
    (value,) = get_args(model.model_fields["type"].annotation)
    return str(value)


def frame_types() -> dict[str, list[str]]:
    """The `type` of every member of each union, e.g. for the UI's handler-coverage test."""
    return {name: [frame_type(m) for m in members(union)] for name, union in UNIONS.items()}


def json_schemas(ref_template: str = "#/components/schemas/{model}") -> dict[str, Any]:
    """JSON schemas of the frames and parts, keyed by name: client frames as they are validated,
    everything the sidecar sends as it is serialized (every field present)."""
    models: list[tuple[type[BaseModel], Any]] = [
        (AuthFrame, "validation"),
        (ClientChatFrames, "validation"),
        (AuthOk, "serialization"),
        (ServerChatFrames, "serialization"),
        (EventFrames, "serialization"),
        (MessageParts, "serialization"),
    ]
    keys, schema = models_json_schema(models, ref_template=ref_template)
    defs: dict[str, Any] = schema.get("$defs", {})
    for (keyed, _mode), ref in keys.items():
        name = ref["$ref"].rsplit("/", 1)[-1]
        public = next((k for k, v in UNIONS.items() if v is keyed), name)
        if public != name:
            defs[public] = defs.pop(name)
    # What the UI sends may leave out what has a default: without `default`, openapi-typescript
    # makes those fields optional (it treats a default as "always present", true of output only).
    client_frames: tuple[type[BaseModel], ...] = (AuthFrame, *members(ClientChatFrames))
    for model in client_frames:
        for field in defs[model.__name__]["properties"].values():
            field.pop("default", None)
    return defs
