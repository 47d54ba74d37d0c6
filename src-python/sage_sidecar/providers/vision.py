"""Whether a model takes images. No provider API says so in a standard way (OpenAI's /models does
not; Ollama's /api/show lists "vision" in `capabilities`, which the OpenAI-compatible path does
not read), so Sage keeps a table of common models that are known to be text-only. A model that
matches is never sent an image: the reply fails at once with the coded `no_vision` failure, not
an HTTP 400 from the provider. Any other model is assumed to see (most current models do); if it
does not, the provider's own error is shown."""

import re

# Lower-cased model ids (a provider prefix like `deepseek/` or a `:tag` is ignored).
_TEXT_ONLY = re.compile(
    r"^(gpt-3\.5|gpt-4-(0613|0314|32k)|o1-mini|o3-mini|deepseek-(chat|reasoner|coder|r1|v[23])"
    r"|deepseek-r1-distill|qwq|qwen2?\.?5?-?(coder|math)?(?!.*vl)|qwen3(?!.*vl)|llama-?2|llama-?3"
    r"(?!\.2-(11|90)b)(?!.*vision)|mistral-7b|mixtral|phi-?[23]|codellama|gemma-?2|tinyllama|scripted-text)",
)


def takes_images(model: str) -> bool:
    name = model.lower().rsplit("/", 1)[-1].split(":", 1)[0]
    return not _TEXT_ONLY.match(name)
