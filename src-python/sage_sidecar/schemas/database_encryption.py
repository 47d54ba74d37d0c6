"""Settings → Privacy: whether the database is encrypted, and a request to change it."""

from typing import Literal

from pydantic import BaseModel, Field


class ConversionFailure(BaseModel):
    target: Literal["encrypted", "plain"]
    reason: str


class DatabaseEncryptionOut(BaseModel):
    encrypted: bool = Field(description="The database file is encrypted now (SQLCipher).")
    pending: Literal["encrypted", "plain"] | None = Field(
        description="The form the database takes at the next start of the sidecar, if it changes."
    )
    keychain: str = Field(description="The keychain holding the key, or 'none'.")
    last_failure: ConversionFailure | None = Field(
        description="Why the last requested conversion did not happen (the database is unchanged)."
    )


class DatabaseEncryptionIn(BaseModel):
    encrypted: bool
