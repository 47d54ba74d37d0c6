"""Evaluation sets beyond Python's help topics, built from Debian packages (nothing big is
committed): the questions and the document each one needs live in bench/quality/sets/*.json,
the text is read from the installed package and turned into Markdown here.

- `manpages` (English): the Linux man-pages project's file formats and overviews (sections 5 and
  7 of Debian's `manpages`) and system calls (section 2 of `manpages-dev`). Reference prose of a
  different kind from Python's: C APIs, kernel concepts, configuration files.
- `manpages-zh` (Chinese): the Chinese translations of Debian's `manpages-zh`, sections 1 and 8
  (commands and administration). Real Chinese prose, GFDL-1.2+.

A page is one document, named `<page>.<section>.md`. Pages over `MAX_BYTES` (compressed source)
are left out so a set indexes in well under a minute on two cores. A question's answer is its
document: a hit is relevant when it comes from that file (`docs` lists every acceptable one).
"""

import gzip
import json
import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SETS_DIR = Path(__file__).resolve().parents[2] / "bench" / "quality" / "sets"
MAX_BYTES = 10_000  # uncompressed roff source: keeps each set to a few hundred pages


@dataclass(frozen=True)
class Source:
    package: str
    folders: tuple[str, ...]


SOURCES: dict[str, tuple[Source, ...]] = {
    "manpages": (
        Source("manpages", ("/usr/share/man/man5/", "/usr/share/man/man7/")),
        Source("manpages-dev", ("/usr/share/man/man2/",)),
    ),
    "manpages-zh": (
        Source("manpages-zh", ("/usr/share/man/zh_CN/man1/", "/usr/share/man/zh_CN/man8/")),
    ),
}


class MissingPackage(RuntimeError):
    pass


def _package_files(source: Source) -> list[Path]:
    listed = subprocess.run(
        ["dpkg-query", "-L", source.package], capture_output=True, text=True, timeout=30
    )
    if listed.returncode != 0:
        raise MissingPackage(f"apt-get install {source.package}")
    return sorted(
        Path(line)
        for line in listed.stdout.splitlines()
        if line.startswith(source.folders) and line.endswith(".gz") and not os.path.islink(line)
    )


# --- a small roff reader: enough of the man macros for readable Markdown -----------------------

_ESCAPES = {
    r"\-": "-", r"\(aq": "'", r"\(dq": '"', r"\(em": "—", r"\(en": "–", r"\(bu": "•",
    r"\(lq": "“", r"\(rq": "”", r"\(oq": "‘", r"\(cq": "’", r"\(co": "©", r"\(mu": "×",
    r"\(<=": "<=", r"\(>=": ">=", r"\(ti": "~", r"\(ha": "^", r"\(rs": "\\", r"\e": "\\",
    r"\~": " ", r"\ ": " ",
}  # fmt: skip
_ESCAPE = re.compile("|".join(re.escape(e) for e in sorted(_ESCAPES, key=len, reverse=True)))
_DROP = re.compile(
    r"\\f(?:\[[^\]]*\]|\(..|.)"  # font changes
    r"|\\[*n](?:\[[^\]]*\]|\(..|.)"  # strings and registers
    r"|\\s[+-]?\d+|\\\[[^\]]*\]|\\\(..|\\[&,/:%^|0dcu]"
)
_FONT_MACROS = {"B", "I", "SM", "SB", "BR", "RB", "IR", "RI", "BI", "IB"}
_BREAKS = {"PP", "LP", "P", "TP", "TQ", "sp", "br", "RS", "RE", "nf", "fi", "EX", "EE", "in"}


def _inline(text: str) -> str:
    return _DROP.sub("", _ESCAPE.sub(lambda m: _ESCAPES[m.group(0)], text))


def _arguments(rest: str) -> list[str]:
    return [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', rest)]


def roff_markdown(source: str) -> str | None:
    """A man page's roff as Markdown (None for a `.so` redirect)."""
    if source.lstrip().startswith(".so "):
        return None
    lines: list[str] = []
    for raw in source.splitlines():
        if raw.startswith(('.\\"', "'\\\"")) or raw.strip() in (".", "'"):
            continue
        if not raw.startswith((".", "'")):
            lines.append(_inline(raw))
            continue
        macro, _, rest = raw[1:].strip().partition(" ")
        if macro in ("SH", "SS"):
            title = _inline(" ".join(_arguments(rest))).strip()
            lines += ["", ("## " if macro == "SH" else "### ") + title, ""]
        elif macro in _FONT_MACROS:
            glue = " " if macro in ("B", "I", "SM", "SB") else ""
            lines.append(_inline(glue.join(_arguments(rest))))
        elif macro == "IP":
            args = _arguments(rest)
            lines += ["", _inline(args[0]) if args else ""]
        elif macro in _BREAKS:
            lines.append("")
        # anything else (.TH, .de, .ds, .UR, .ad, .hy, ...) carries no prose
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def page_name(path: Path) -> str:
    """`/usr/share/man/man2/open.2.gz` -> `open.2.md`."""
    return path.name.removesuffix(".gz") + ".md"


def write_corpus(set_name: str, folder: Path) -> list[Path]:
    """The set's pages as Markdown files in `folder`; raises MissingPackage naming what to
    install."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for source in SOURCES[set_name]:
        for path in _package_files(source):
            raw = gzip.decompress(path.read_bytes())
            if len(raw) > MAX_BYTES:
                continue
            markdown = roff_markdown(raw.decode("utf-8", "replace"))
            if markdown is None or len(markdown) < 200:
                continue
            target = folder / page_name(path)
            target.write_text(markdown, encoding="utf-8")
            written.append(target)
    return written


def load_questions(set_name: str) -> list[dict[str, Any]]:
    data = json.loads((SETS_DIR / f"{set_name}.json").read_text(encoding="utf-8"))
    return list(data["questions"])


# --- evaluation through the API (in-process TestClient or a real sidecar process) -------------

Call = Callable[[str, str, dict[str, Any] | None], Any]
MODES = ("vector", "bm25", "hybrid")
RECALL_AT, MRR_DEPTH = 5, 10


def ingest(
    call: Call, set_name: str, folder: Path, embedder: str | None = None
) -> tuple[str, float]:
    """Create a base (with that embedder, else the default), add the set's pages by path, wait
    until indexed: (kb id, seconds)."""
    started = time.perf_counter()
    body = {"name": set_name} | ({"embedder": embedder} if embedder else {})
    kb = call("POST", "/api/knowledge/bases", body)
    paths = [str(p) for p in write_corpus(set_name, folder)]
    call("POST", f"/api/knowledge/bases/{kb['id']}/files/paths", {"paths": paths})
    while True:
        files = call("GET", f"/api/knowledge/bases/{kb['id']}/files", None)
        if all(f["status"] in ("ready", "failed") for f in files):
            break
        time.sleep(0.1)
    failed = [f["name"] for f in files if f["status"] != "ready"]
    assert not failed, f"pages failed to index: {failed}"
    return kb["id"], time.perf_counter() - started


def is_relevant(question: dict[str, Any], hit: dict[str, Any]) -> bool:
    """A hit from one of the question's pages (or, for Python's help topics, containing the
    evidence phrase)."""
    if "evidence" in question:
        return " ".join(question["evidence"].split()) in " ".join(hit["text"].split())
    return any(hit["file_name"] == f"{doc}.md" for doc in question["docs"])


def first_relevant(question: dict[str, Any], hits: list[dict[str, Any]]) -> int | None:
    return next((rank for rank, h in enumerate(hits, 1) if is_relevant(question, h)), None)


def evaluate(
    call: Call,
    kb_ids: list[str],
    questions: list[dict[str, Any]],
    depth: int = MRR_DEPTH,
    modes: tuple[str, ...] = MODES,
) -> dict[str, Any]:
    """recall@5, MRR@10 and the HTTP latency per mode; `lists` keeps each mode's hits (ids and
    scores) `depth` deep for comparing fusions offline."""
    results: dict[str, Any] = {}
    for mode in modes:
        recall = reciprocal = 0.0
        missed, took, lists = [], [], []
        for q in questions:
            body = {"query": q["question"], "kb_ids": kb_ids, "mode": mode, "top_k": depth}
            started = time.perf_counter()
            hits = call("POST", "/api/knowledge/search", body)["hits"]
            took.append((time.perf_counter() - started) * 1000)
            rank = first_relevant(q, hits[:MRR_DEPTH])
            recall += bool(rank and rank <= RECALL_AT)
            reciprocal += 1 / rank if rank else 0.0
            if not (rank and rank <= RECALL_AT):
                missed.append(q["question"])
            lists.append([(h["chunk_id"], h["score"], h) for h in hits])
        took.sort()
        results[mode] = {
            f"recall@{RECALL_AT}": round(recall / len(questions), 3),
            f"mrr@{MRR_DEPTH}": round(reciprocal / len(questions), 3),
            "p50_ms": round(took[len(took) // 2], 1),
            "missed": missed,
            "lists": lists,
        }
    return results


def table(results: dict[str, Any]) -> str:
    lines = [f"{'mode':8} recall@{RECALL_AT}  mrr@{MRR_DEPTH}  p50 ms"]
    for mode in MODES:
        r = results[mode]
        lines.append(
            f"{mode:8} {r[f'recall@{RECALL_AT}']:>8.3f}  {r[f'mrr@{MRR_DEPTH}']:>6.3f}"
            f"  {r['p50_ms']:>6.1f}"
        )
    return "\n".join(lines)
