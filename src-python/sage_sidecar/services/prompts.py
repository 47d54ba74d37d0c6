"""The prompt library: saved prompts with `{{variable}}` templates, listed, edited, exported to
and imported from a JSON file. The shipped prompts are inserted by migration 0015."""

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.schemas.prompts import (
    PromptCreate,
    PromptExport,
    PromptImportResult,
    PromptOut,
    PromptUpdate,
)
from sage_sidecar.storage.prompts import Prompt
from sage_sidecar.storage.rows import get_or_raise

# `{{ name }}`: any characters but braces and line breaks (a Chinese name too), trimmed. The UI's
# composables/promptTemplate.ts uses the same pattern.
VARIABLE = re.compile(r"\{\{\s*([^{}\s](?:[^{}\n]{0,38}[^{}\s])?)\s*\}\}")


def variables(content: str) -> list[str]:
    return list(dict.fromkeys(match.group(1) for match in VARIABLE.finditer(content)))


def to_out(prompt: Prompt) -> PromptOut:
    return PromptOut(
        id=prompt.id,
        title=prompt.title,
        description=prompt.description,
        content=prompt.content,
        variables=variables(prompt.content),
        created_at=prompt.created_at,
        updated_at=prompt.updated_at,
    )


async def list_prompts(session: AsyncSession) -> list[Prompt]:
    query = select(Prompt).order_by(Prompt.title, Prompt.created_at)
    return list((await session.scalars(query)).all())


async def get_prompt(session: AsyncSession, prompt_id: str) -> Prompt:
    return await get_or_raise(session, Prompt, prompt_id, "prompt")


async def create_prompt(session: AsyncSession, data: PromptCreate) -> Prompt:
    prompt = Prompt(**data.model_dump())
    session.add(prompt)
    await session.commit()
    return prompt


async def update_prompt(session: AsyncSession, prompt_id: str, data: PromptUpdate) -> Prompt:
    prompt = await get_prompt(session, prompt_id)
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(prompt, key, value)
    await session.commit()
    return prompt


async def delete_prompt(session: AsyncSession, prompt_id: str) -> None:
    await session.delete(await get_prompt(session, prompt_id))
    await session.commit()


async def export_prompts(session: AsyncSession) -> PromptExport:
    return PromptExport(
        prompts=[
            PromptCreate(title=p.title, description=p.description, content=p.content)
            for p in await list_prompts(session)
        ]
    )


async def import_prompts(session: AsyncSession, data: PromptExport) -> PromptImportResult:
    """Adds each prompt the library lacks. One with the same title and content is already there,
    so importing a file twice (or one's own export) changes nothing."""
    seen = {(p.title, p.content) for p in await list_prompts(session)}
    created = 0
    for item in data.prompts:
        if (item.title, item.content) in seen:
            continue
        seen.add((item.title, item.content))
        session.add(Prompt(**item.model_dump()))
        created += 1
    await session.commit()
    return PromptImportResult(created=created, skipped=len(data.prompts) - created)
