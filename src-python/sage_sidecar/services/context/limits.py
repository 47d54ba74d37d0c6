"""How many tokens a model's context window holds: the provider's own answer where it gives one,
else a table of common models, else the setting (`chat_default_context_tokens`). Looked up once
per provider URL and model, then cached for the process.

Where providers say it:
- Ollama runs a model with a window of its own choosing, often far below what the model takes,
  and silently cuts a longer prompt from the front. So Sage asks what it runs: `num_ctx` in the
  model's `parameters` (`POST /api/show`, when its Modelfile sets one), else the loaded model's
  `context_length` in `GET /api/ps`; before the model is loaded it assumes Ollama's smallest current
  default, 4,096, or the model's own maximum (`model_info["<arch>.context_length"]`, else the table)
  when that is smaller, and asks again next time.
- LM Studio: `GET /api/v0/models/<id>` → `loaded_context_length`, else `max_context_length`.
- OpenAI-compatible servers whose `GET /models` entries carry it: `context_length` (OpenRouter,
  LM Studio), `max_context_length`, `context_window` (Groq), `max_model_len` (vLLM),
  `top_provider.context_length` (OpenRouter). OpenAI's and Anthropic's own lists do not.
"""

import logging
import re
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from sage_sidecar.providers.params import bare_name
from sage_sidecar.providers.transport import CONNECT_TIMEOUT_S, HttpProviderClient

log = logging.getLogger(__name__)

DEFAULT_CONTEXT_TOKENS = 8_192
# The window Ollama gives a model nobody configured (4k below 24 GiB of VRAM since 0.6; more on
# bigger GPUs, or with OLLAMA_CONTEXT_LENGTH, which /api/ps then shows).
OLLAMA_DEFAULT_CONTEXT = 4_096
Source = Literal["provider", "table", "setting"]

# Lower-cased model names without a routing prefix or `:tag`; first match wins, so the more
# specific come first. Sources: OpenAI's model pages (gpt-4o 128k, gpt-4.1 1,047,576, gpt-5 400k,
# o1/o3/o4-mini 200k, o1-mini 128k, gpt-4 8k, gpt-3.5-turbo 16k), Anthropic's models overview
# (Claude 3 and later 200k), and the models' cards as Ollama's library lists them (llama3 8k,
# llama3.1–3.3 128k, qwen2.5 32k, qwen3 40k, mistral 32k, mistral-nemo 128k, mixtral 32k, gemma2
# 8k, gemma3 128k (1b: 32k), deepseek-r1 128k, deepseek-v3/chat 64k, phi3 4k, phi4 16k).
_TABLE: list[tuple[re.Pattern[str], int]] = [
    (re.compile(p), n)
    for p, n in [
        (r"^gpt-4\.1", 1_047_576),
        (r"^gpt-5", 400_000),
        (r"^gpt-4o|^chatgpt-4o|^gpt-4-turbo|^gpt-4-1106|^gpt-4-0125", 128_000),
        (r"^o1-mini", 128_000),
        (r"^o[1-9]", 200_000),
        (r"^gpt-4", 8_192),
        (r"^gpt-3\.5", 16_385),
        (r"^claude-2", 100_000),
        (r"^claude", 200_000),
        (r"^llama-?3\.[1-3]|^llama-?4", 131_072),
        (r"^llama-?3", 8_192),
        (r"^llama-?2", 4_096),
        (r"^qwen-?3", 40_960),
        (r"^qwen-?2\.5|^qwq", 32_768),
        (r"^mistral-nemo|^mistral-large|^mistral-small", 128_000),
        (r"^mistral|^mixtral|^codestral", 32_768),
        (r"^gemma-?3-?1b", 32_768),
        (r"^gemma-?3", 131_072),
        (r"^gemma", 8_192),
        (r"^deepseek-r1", 131_072),
        (r"^deepseek", 65_536),
        (r"^phi-?4", 16_384),
        (r"^phi-?3", 4_096),
    ]
]


@dataclass(frozen=True)
class ContextWindow:
    tokens: int
    source: Source


_cache: dict[tuple[str, str], ContextWindow] = {}


def cache_key(client: HttpProviderClient, kind: str, model: str) -> tuple[str, str]:
    return (f"{kind} {client.base_url}", model)


def remember(key: tuple[str, str], window: ContextWindow) -> None:
    """A window learnt the hard way (the provider refused a request as too long)."""
    _cache[key] = window


def from_table(model: str) -> int | None:
    name = bare_name(model)
    return next((n for pattern, n in _TABLE if pattern.match(name)), None)


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _from_models_entry(entry: dict[str, Any]) -> int | None:
    for key in ("context_length", "max_context_length", "context_window", "max_model_len"):
        if found := _positive(entry.get(key)):
            return found
    top = entry.get("top_provider")
    return _positive(top.get("context_length")) if isinstance(top, dict) else None


async def _get_json(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> Any:
    try:
        response = await http.request(method, url, timeout=CONNECT_TIMEOUT_S, **kwargs)
        return response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


async def _ollama(client: HttpProviderClient, model: str) -> tuple[int | None, int | None]:
    """(the window Ollama runs the model with, if it says; the model's own maximum, if known)."""
    root = client.base_url.removesuffix("/v1")
    data = await _get_json(client._http, "POST", f"{root}/api/show", json={"model": model})
    data = data if isinstance(data, dict) else {}
    match = re.search(r"(?m)^num_ctx\s+(\d+)", str(data.get("parameters") or ""))
    if match:
        return int(match.group(1)), None
    most = None
    info = data.get("model_info")
    if isinstance(info, dict):
        most = next((v for k, v in info.items() if k.endswith(".context_length") and _positive(v)),
                    None)  # fmt: skip
    loaded = await _get_json(client._http, "GET", f"{root}/api/ps")
    entries = loaded.get("models") if isinstance(loaded, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and model in (entry.get("name"), entry.get("model")):
            if running := _positive(entry.get("context_length")):
                return running, most
    return None, most


async def _lmstudio(client: HttpProviderClient, model: str) -> int | None:
    root = client.base_url.removesuffix("/v1")
    data = await _get_json(client._http, "GET", f"{root}/api/v0/models/{model}")
    if isinstance(data, dict):
        for key in ("loaded_context_length", "max_context_length"):
            if found := _positive(data.get(key)):
                return found
    return await _models_list(client, model)


async def _models_list(client: HttpProviderClient, model: str) -> int | None:
    url = client.base_url + client.models_path
    data = await _get_json(client._http, "GET", url, headers=client._headers())
    entries = data.get("data") if isinstance(data, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("id") == model:
            return _from_models_entry(entry)
    return None


async def from_provider(client: HttpProviderClient, kind: str, model: str) -> int | None:
    if kind == "ollama":
        return (await _ollama(client, model))[0]
    if kind == "lmstudio":
        return await _lmstudio(client, model)
    if kind == "anthropic":
        return None  # its model list says nothing of the window: the table knows
    return await _models_list(client, model)


async def context_window(
    client: HttpProviderClient, kind: str, model: str, fallback: int = DEFAULT_CONTEXT_TOKENS
) -> ContextWindow:
    key = cache_key(client, kind, model)
    if key in _cache:
        return _cache[key]
    if kind == "ollama":
        running, most = await _ollama(client, model)
        if running is None:  # not loaded yet: assume the default window, ask again next time
            known = most or from_table(model)
            return ContextWindow(min(known or OLLAMA_DEFAULT_CONTEXT, OLLAMA_DEFAULT_CONTEXT),
                                 "provider" if most else "table" if known else "setting")  # fmt: skip
    tokens = await from_provider(client, kind, model)
    if tokens is not None:
        window = ContextWindow(tokens, "provider")
    elif (known := from_table(model)) is not None:
        window = ContextWindow(known, "table")
    else:
        return ContextWindow(fallback, "setting")  # not cached: the setting may change
    _cache[key] = window
    log.info("context window of %s: %d tokens (%s)", model, window.tokens, window.source)
    return window


def forget() -> None:
    """Drop what was looked up (tests; a provider whose models changed)."""
    _cache.clear()
