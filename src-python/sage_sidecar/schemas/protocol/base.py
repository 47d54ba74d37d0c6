"""The base of every WebSocket frame and of the JSON columns they carry (message parts,
citations, usage): camelCase on the wire, snake_case in Python.

`validate_by_name` lets Python build models with field names and lets rows written before the
casing was settled (snake_case `usage`) still load. Every field is written on output, `null`
included (no `exclude_none`), so the serialization schema can mark them all required and the
generated TypeScript types need no `?` on what is always there.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ProtocolModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        json_schema_serialization_defaults_required=True,
        field_title_generator=lambda name, _info: to_camel(name),
    )


def dump(model: BaseModel) -> dict[str, Any]:
    """The one way a frame or a JSON column becomes JSON: camelCase, every field present."""
    return model.model_dump(mode="json", by_alias=True)
