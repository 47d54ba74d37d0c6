"""The prompt library at the API boundary, and its JSON export file."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from sage_sidecar.schemas.timestamps import UtcDateTime

MAX_CONTENT = 20_000
MAX_IMPORT = 1_000

Title = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00\n]*\S[^\x00\n]*$")]
Description = Annotated[str, Field(max_length=500, pattern=r"^[^\x00]*$")]
Content = Annotated[str, Field(min_length=1, max_length=MAX_CONTENT, pattern=r"^[^\x00]*\S")]


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
