"""SKILL.md: YAML front matter between `---` lines, with `name` and `description`, then the
instructions in Markdown. Other front-matter keys (license, allowed-tools, metadata...) are kept
in the file as they are and ignored here."""

import re
from dataclasses import dataclass

from sage_sidecar.core.errors import InvalidError

SKILL_FILE = "SKILL.md"
MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_SKILL_MD = 256 * 1024  # bytes; the instructions go into the model's context when loaded
# Letters, digits, spaces, `-`, `_` and `.`: Anthropic's skills use lower-case-with-hyphens; a
# name is also what the model passes to load_skill, so nothing that needs quoting.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$")
_FRONT = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


@dataclass(frozen=True)
class SkillDoc:
    name: str
    description: str
    instructions: str  # the Markdown after the front matter


def parse(text: str) -> SkillDoc:
    """SKILL.md's name, description and instructions, or an InvalidError saying what is wrong."""
    if len(text.encode()) > MAX_SKILL_MD:
        raise InvalidError(f"SKILL.md is larger than {MAX_SKILL_MD // 1024} KB",
                           code="skill.skill_md_too_large", limit=MAX_SKILL_MD)  # fmt: skip
    match = _FRONT.match(text)
    if match is None:
        raise InvalidError(
            "SKILL.md has no front matter: it must start with a '---' line, then 'name:' and "
            "'description:', then another '---' line", code="skill.no_front_matter",
        )  # fmt: skip
    # Imported on first use: a start reads no SKILL.md once the shipped skills are seeded, and
    # PyYAML is ~10-20 ms of every start otherwise (python -X importtime).
    import yaml

    try:
        front = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = str(mark.line + 2) if mark is not None else "?"  # +1 for 0-based, +1 for '---'
        raise InvalidError(f"SKILL.md's front matter is not valid YAML (line {line})",
                           code="skill.bad_front_matter", line=line) from None  # fmt: skip
    if not isinstance(front, dict):
        raise InvalidError("SKILL.md's front matter must be 'key: value' lines",
                           code="skill.bad_front_matter", line="2")  # fmt: skip
    name = _text(front, "name")
    description = _text(front, "description")
    if len(name) > MAX_NAME or not _NAME.match(name):
        raise InvalidError(
            f"the skill name {name[:80]!r} must be at most {MAX_NAME} letters, digits, spaces, "
            "'-', '_' or '.', starting with a letter or digit", code="skill.bad_name",
            name=name[:80], limit=MAX_NAME,
        )  # fmt: skip
    if len(description) > MAX_DESCRIPTION:
        raise InvalidError(f"the description is longer than {MAX_DESCRIPTION} characters",
                           code="skill.description_too_long", limit=MAX_DESCRIPTION)  # fmt: skip
    return SkillDoc(name, description, text[match.end() :].strip("\n"))


def _text(front: dict[object, object], key: str) -> str:
    value = front.get(key)
    if not isinstance(value, str | int | float) or not str(value).strip():
        raise InvalidError(f"SKILL.md's front matter has no {key!r}",
                           code="skill.missing_field", field=key)  # fmt: skip
    return " ".join(str(value).split())  # one line: it goes into the system prompt
