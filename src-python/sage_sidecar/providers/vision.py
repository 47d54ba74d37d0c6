"""Whether a model takes images. Where the provider says so, Sage asks: an Ollama provider's
`/api/show` lists "vision" in a model's `capabilities`. Elsewhere no API says it in a standard way
(OpenAI's /models does not), so Sage keeps a table of common models known to be text-only. A
model found text-only is never sent an image: the reply fails at once with the coded `no_vision`
failure, not an HTTP 400 from the provider. Any other model is assumed to see (most current
models do); if it does not, the provider's own error is shown."""

import re

import httpx

# Lower-cased model ids (a provider prefix like `deepseek/` or a `:tag` is ignored).
_TEXT_ONLY = re.compile(
    r"^(gpt-3\.5|gpt-4-(0613|0314|32k)|o1-mini|o3-mini|deepseek-(chat|reasoner|coder|r1|v[23])"
    r"|deepseek-r1-distill|qwq|qwen2?\.?5?-?(coder|math)?(?!.*vl)|qwen3(?!.*vl)|llama-?2|llama-?3"
    r"(?!\.2-(11|90)b)(?!.*vision)|mistral-7b|mixtral|phi-?[23]|codellama|gemma-?2|tinyllama|scripted-text)",
)


def takes_images(model: str) -> bool:
    name = model.lower().rsplit("/", 1)[-1].split(":", 1)[0]
    return not _TEXT_ONLY.match(name)


async def ollama_capabilities(http: httpx.AsyncClient, base_url: str, model: str) -> bool | None:
    """Ollama's own answer (None: it did not give one: an older Ollama, not Ollama, no answer)."""
    root = base_url.rstrip("/").removesuffix("/v1")
    try:
        response = await http.post(f"{root}/api/show", json={"model": model}, timeout=5)
        capabilities = response.json().get("capabilities") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return "vision" in capabilities if isinstance(capabilities, list) else None


async def model_sees(http: httpx.AsyncClient, kind: str, base_url: str, model: str) -> bool:
    if kind == "ollama":
        answer = await ollama_capabilities(http, base_url, model)
        if answer is not None:
            return answer
    return takes_images(model)
