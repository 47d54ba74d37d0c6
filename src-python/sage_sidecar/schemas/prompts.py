"""The prompt library at the API boundary, and its JSON export file."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from sage_sidecar.schemas.timestamps import UtcDateTime

MAX_CONTENT = 20_000
MAX_IMPORT = 1_000


# Checked in code, not as `pattern`s: a regular expression on strings this long made
# schemathesis's generator crash inside Python's parser (the fuzz layer), and a client reads
# "not blank" better as a code than as a regex.
def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("string_pattern_mismatch", "NUL characters are not allowed")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "must contain more than white space")
    return value


def _one_line(value: str) -> str:
    if "\n" in value:
        raise PydanticCustomError("string_pattern_mismatch", "must be a single line")
    return value


Title = Annotated[
    str,
    Field(min_length=1, max_length=200),
    AfterValidator(_no_nul),
    AfterValidator(_one_line),
    AfterValidator(_not_blank),
]
Description = Annotated[str, Field(max_length=500), AfterValidator(_no_nul)]
Content = Annotated[
    str,
    Field(min_length=1, max_length=MAX_CONTENT),
    AfterValidator(_no_nul),
    AfterValidator(_not_blank),
]


class PromptCreate(BaseModel):
    title: Title
    description: Description = ""
    content: Content


class PromptUpdate(BaseModel):
    title: Title | None = None
    description: Description | None = None
    content: Content | None = None


class PromptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    description: str
    content: str
    variables: list[str] = Field(description="The `{{name}}`s in `content`, in order, once each")
    created_at: UtcDateTime
    updated_at: UtcDateTime


class PromptExport(BaseModel):
    """The file Export writes and Import reads: versioned, so a later format can be told apart."""

    format: Literal["sage.prompts"] = "sage.prompts"
    version: Literal[1] = 1
    prompts: list[PromptCreate] = Field(max_length=MAX_IMPORT)


class PromptImportResult(BaseModel):
    created: int
    skipped: int = Field(description="Already in the library (same title and content)")
