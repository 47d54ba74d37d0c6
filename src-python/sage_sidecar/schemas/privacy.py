"""Settings → Privacy: whether stored secrets (provider keys, MCP env and header values) are
encrypted, and the keychain that holds their key (storage/secrets.py)."""

from pydantic import BaseModel, Field


class KeychainOut(BaseModel):
    available: bool = Field(description="A keychain is there and answered (or was found).")
    backend: str = Field(description="e.g. 'Secret Service', 'macOS Keychain', or 'none'.")
    reason: str | None = Field(description="Why the keychain cannot be used, in English.")


class SecretsStatusOut(BaseModel):
    secrets_encrypted: bool = Field(
        description="Stored secrets are encrypted with the keychain-held key, and new ones will be."
    )
    unreadable_secrets: int = Field(
        description="Stored secrets that cannot be decrypted (their key is gone); they read as "
        "unset and must be entered again."
    )
    keychain: KeychainOut
