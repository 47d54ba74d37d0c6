"""A coded problem per field for request validation (422): the UI shows a sentence in the user's
language next to the field (`errors.field.<code>` in the locale files), not pydantic's English.

Pydantic's error `type` and `ctx` say what is wrong; this maps them to a small set of stable codes
with the values a translation needs. A pattern that asks for an http(s) URL is `field.url`
("Enter a URL that starts with http:// or https://"), not the regular expression.
"""

from collections.abc import Sequence
from typing import Any

# Every code `field_problem` gives, with the parameters it sends (tests check both locales have them).
FIELD_CODES: dict[str, set[str]] = {
    "field.required": set(), "field.blank": set(), "field.url": set(), "field.pattern": set(),
    "field.too_long": {"max"}, "field.too_short": {"min"},
    "field.min": {"limit"}, "field.min_exclusive": {"limit"},
    "field.max": {"limit"}, "field.max_exclusive": {"limit"},
    "field.number": set(), "field.choice": {"expected"}, "field.boolean": set(),
    "field.invalid": set(),
}  # fmt: skip

_PLACES = ("body", "query", "path", "header", "cookie")
_URL_TYPES = {"url_parsing", "url_scheme", "url_syntax_violation", "url_type", "url_too_long"}
_NUMBER_TYPES = {"int_parsing", "float_parsing", "int_type", "float_type", "int_from_float"}
_BOUND_CODES = {
    "greater_than": ("field.min_exclusive", "gt"),
    "greater_than_equal": ("field.min", "ge"),
    "less_than": ("field.max_exclusive", "lt"),
    "less_than_equal": ("field.max", "le"),
}


def field_name(loc: Sequence[str]) -> str:
    """The field's dotted path inside its place: `["body", "base_url"]` → `base_url`."""
    return ".".join(part for part in loc if part not in _PLACES)


def field_problem(error_type: str, ctx: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The stable code and the parameters for one pydantic error."""
    ctx = ctx or {}
    if error_type == "missing":
        return "field.required", {}
    if error_type == "blank":
        return "field.blank", {}
    if error_type == "string_pattern_mismatch":
        if "https?://" in str(ctx.get("pattern", "")):
            return "field.url", {}
        return "field.pattern", {}
    if error_type in _URL_TYPES:
        return "field.url", {}
    if error_type in ("string_too_long", "too_long"):
        return "field.too_long", {"max": ctx.get("max_length")}
    if error_type in ("string_too_short", "too_short"):
        return "field.too_short", {"min": ctx.get("min_length")}
    if error_type in _BOUND_CODES:
        code, key = _BOUND_CODES[error_type]
        return code, {"limit": _plain(ctx.get(key))}
    if error_type in _NUMBER_TYPES:
        return "field.number", {}
    if error_type in ("literal_error", "enum"):
        return "field.choice", {"expected": str(ctx.get("expected", ""))}
    if error_type in ("bool_parsing", "bool_type"):
        return "field.boolean", {}
    return "field.invalid", {}


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, float, str)) or value is None else str(value)
