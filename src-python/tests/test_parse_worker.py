"""Untrusted documents cost bounded time and memory, outside the sidecar's event loop: the
parsers' caps (zip bomb, billion laughs, paragraphs, pages, nesting), linear patterns on long runs
of spaces, and the parse worker processes (budget, memory limit, kill on cancel, no key)."""

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import hostile_files as hostile
import pytest
from proc_tree import children_of

from sage_sidecar.core.parent_death import BACKGROUND_NICE
from sage_sidecar.knowledge.chunking import CHARS_PER_TOKEN, chunk_document
from sage_sidecar.knowledge.parse_worker import ParseLimits, ParserPool
from sage_sidecar.knowledge.parsers import ParseError, parse_file

from sidecar_process import SRC_PYTHON, wait_gone

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and /proc are Linux")


# --- patterns: linear on 200k spaces ----------------------------------------------------------

LINEAR_PROBE = """
import json, sys, time
from pathlib import Path
from sage_sidecar.knowledge import chunking, parsers
run = 200_000 * " "
cases = {
    "atx": lambda: parsers._ATX.match("#" + run + "x"),
    "atx_hashes": lambda: parsers._ATX.match("# a" + run + "#" + run + "b"),
    "line_end": lambda: list(chunking._LINE_END.finditer(run + "x" + run)),
    "markdown": lambda: chunking.chunk_document(parsers.parse_file(Path(sys.argv[1]), "md")),
    "text": lambda: chunking.chunk_document(parsers.parse_file(Path(sys.argv[1]), "txt")),
}
took = {}
for name, case in cases.items():
    started = time.perf_counter()
    case()
    took[name] = time.perf_counter() - started
print(json.dumps(took))
"""


def test_patterns_on_user_text_are_linear_on_200k_spaces(tmp_path: Path):
    """Each pattern and a whole parse + chunk of a file with 200k-space runs finish well under a
    second (the old `_ATX` took 5.8 s on 40k spaces, `_LINE_END` 2.4 s; quadratic, so minutes
    here). In a child process with a timeout: a backtracking regex holds the GIL."""
    source = hostile.spaces_markdown(tmp_path / "spaces.md")
    source.write_text(source.read_text() + "\n" + "word " * 10 + " " * 200_000 + "\nend\n")
    result = subprocess.run(
        [sys.executable, "-c", LINEAR_PROBE, str(source)],
        capture_output=True, text=True, timeout=60, cwd=SRC_PYTHON,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    took = json.loads(result.stdout)
    assert all(seconds < 0.5 for seconds in took.values()), took


def test_atx_headings_still_lose_their_closing_hashes(tmp_path: Path):
    path = tmp_path / "h.md"
    path.write_text("# Title ##   \n\nText.\n\n## C# notes\n\nMore.\n")
    blocks = parse_file(path, "md").blocks
    assert [b.heading_path for b in blocks] == ["Title", "Title › C# notes"]


def test_chunks_stay_bounded_in_characters(tmp_path: Path):
    """A megabyte "word" and two words a megabyte of spaces apart give no megabyte chunk."""
    path = tmp_path / "blob.txt"
    path.write_text("start " + "x" * 1_000_000 + " middle" + " " * 1_000_000 + "end of it")
    chunks = chunk_document(parse_file(path, "txt"), target=200, overlap=40)
    assert max(len(c.text) for c in chunks) <= 200 * CHARS_PER_TOKEN
    text = parse_file(path, "txt").text
    assert all(text[c.char_start : c.char_end] == c.text for c in chunks)
    assert chunks[-1].text.endswith("end of it")


# --- parser caps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "kind", "code", "words"),
    [
        (hostile.empty_paragraphs_docx, "docx", "parse.too_many_blocks", "100,000 paragraphs"),
        (hostile.billion_laughs_docx, "docx", "parse.xml_entities", "declares entities"),
        (lambda p: hostile.zip_bomb_docx(p, 300), "docx", "parse.too_large_unpacked",
         "expands beyond 256 MB"),
        (hostile.many_pages_pdf, "pdf", "parse.too_many_pages", "more than 5,000 pages"),
        (lambda p: hostile.nested_html(p, 2_000), "html", "parse.too_deep", "nested more than"),
    ],
    ids=["empty-paragraphs", "billion-laughs", "zip-bomb", "10k-pages", "nested-html"],
)  # fmt: skip
def test_hostile_documents_fail_fast_with_a_coded_reason(tmp_path, make, kind, code, words):
    path = make(tmp_path / f"hostile.{kind}")
    started = time.perf_counter()
    with pytest.raises(ParseError, match=words) as failure:
        parse_file(path, kind)
    assert failure.value.code == code
    assert time.perf_counter() - started < 10


def test_a_docx_with_many_paragraphs_is_read_in_linear_time(tmp_path: Path):
    """20k paragraphs take a few seconds, not the 25-45 s python-docx's per-paragraph style
    lookup took."""
    body = "<w:p><w:r><w:t>Line of text.</w:t></w:r></w:p>" * 20_000
    path = hostile._rewrite_docx(tmp_path / "long.docx", body)
    started = time.perf_counter()
    assert len(parse_file(path, "docx").blocks) == 20_000
    assert time.perf_counter() - started < 10


# --- the worker processes ---------------------------------------------------------------------


def good_text(path: Path) -> Path:
    path.write_text("Lighthouses guide ships at night.\n\nHerons wait in the reeds.\n")
    return path


@linux_only
def test_worker_parses_and_chunks_and_is_reused(tmp_path: Path):
    async def run() -> None:
        pool = ParserPool(ParseLimits(timeout_s=30))
        try:
            chunks = await pool.chunks(good_text(tmp_path / "a.txt"), "txt", 200, 40)
            assert [c.text for c in chunks] == [
                "Lighthouses guide ships at night.\n\nHerons wait in the reeds."
            ]
            text, chars = await pool.text(tmp_path / "a.txt", "txt", 11)
            assert (text, chars) == ("Lighthouses", 61)
            assert pool.started == 1  # the warm worker served both
            (pid,) = pool.worker_pids()
            assert pid in children_of(os.getpid()) and pid != os.getpid()
            environ = await asyncio.to_thread(Path(f"/proc/{pid}/environ").read_bytes)
            assert b"SAGE_" not in environ  # the API key never reaches a parser
            assert os.getpriority(os.PRIO_PROCESS, pid) == BACKGROUND_NICE  # below the loop
            assert os.getpriority(os.PRIO_PROCESS, 0) == 0
        finally:
            await pool.close()
        assert pool.worker_pids() == []

    os.environ["SAGE_API_KEY_PROBE"] = "x" * 40
    try:
        asyncio.run(asyncio.wait_for(run(), 60))
    finally:
        del os.environ["SAGE_API_KEY_PROBE"]


@linux_only
def test_a_parse_over_budget_is_killed_and_the_next_file_is_read(tmp_path: Path):
    slow = hostile.nested_html(tmp_path / "deep.html", 150_000)  # ~5 s of tree building

    async def run() -> None:
        # What this process had before (an earlier test's offline embedder process stays for
        # the whole run: it is process-wide) is not the pool's to end.
        before = children_of(os.getpid())
        pool = ParserPool(ParseLimits(timeout_s=1))
        try:
            started = time.perf_counter()
            with pytest.raises(ParseError, match="took longer than 1 s") as failure:
                await pool.chunks(slow, "html", 200, 40)
            assert failure.value.code == "parse.timeout"
            assert time.perf_counter() - started < 10  # 1 s budget + the worker's start-up
            assert pool.worker_pids() == [] and children_of(os.getpid()) <= before
            chunks = await pool.chunks(good_text(tmp_path / "a.txt"), "txt", 200, 40)
            assert chunks and pool.started == 2
        finally:
            await pool.close()

    asyncio.run(asyncio.wait_for(run(), 60))


@linux_only
def test_a_parse_past_the_memory_limit_fails_with_the_reason(tmp_path: Path):
    """250 MB unpacked passes the zip cap; python-docx then reads the part into memory, past the
    worker's 200 MB address-space limit."""
    bomb = hostile.zip_bomb_docx(tmp_path / "bomb.docx", 250)

    async def run() -> None:
        pool = ParserPool(ParseLimits(timeout_s=30, memory_mb=200))
        try:
            with pytest.raises(ParseError, match="more than 200 MB") as failure:
                await pool.chunks(bomb, "docx", 200, 40)
            assert failure.value.code in ("parse.too_much_memory", "parse.crashed")
            assert await pool.chunks(good_text(tmp_path / "a.txt"), "txt", 200, 40)
        finally:
            await pool.close()

    asyncio.run(asyncio.wait_for(run(), 60))


@linux_only
def test_cancelling_a_parse_kills_its_worker(tmp_path: Path):
    slow = hostile.nested_html(tmp_path / "deep.html", 150_000)

    async def run() -> None:
        pool = ParserPool(ParseLimits(timeout_s=60))
        try:
            task = asyncio.create_task(pool.chunks(slow, "html", 200, 40))
            for _ in range(500):
                if pool.worker_pids():
                    break
                await asyncio.sleep(0.01)
            (pid,) = pool.worker_pids()
            await asyncio.sleep(0.5)  # mid-parse
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await asyncio.to_thread(wait_gone, pid, 1.0)
        finally:
            await pool.close()

    asyncio.run(asyncio.wait_for(run(), 60))


@linux_only
def test_the_event_loop_keeps_its_pace_during_hostile_parses(tmp_path: Path):
    """While the worker chews on slow and hostile files, a 10 ms ticker on the loop never falls
    far behind (in a thread, the parse held the GIL for seconds)."""
    files = [(hostile.nested_html(tmp_path / "deep.html", 100_000), "html"),
             (hostile.spaces_markdown(tmp_path / "s.md"), "md"),
             (hostile.single_line_text(tmp_path / "line.txt", 2), "txt"),
             (hostile.empty_paragraphs_docx(tmp_path / "e.docx", 30_000), "docx")]  # fmt: skip

    async def run() -> float:
        pool = ParserPool(ParseLimits(timeout_s=30))
        worst = 0.0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal worst
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                worst = max(worst, now - last - 0.01)
                last = now

        ticking = asyncio.create_task(ticker())
        try:
            for path, kind in files:
                try:
                    await pool.chunks(path, kind, 200, 40)
                except ParseError:
                    pass
        finally:
            done.set()
            await ticking
            await pool.close()
        return worst

    # 0.5 s, not the bench's 100 ms: a CI runner at load 8 on 2 cores delays the loop on its own;
    # in a thread, lxml's one C call for the nested page alone held the lock for seconds.
    assert asyncio.run(asyncio.wait_for(run(), 120)) < 0.5


@linux_only
def test_an_idle_worker_ends_after_its_idle_time(tmp_path: Path):
    async def run() -> None:
        pool = ParserPool(ParseLimits(idle_s=0.3))
        try:
            await pool.chunks(good_text(tmp_path / "a.txt"), "txt", 200, 40)
            (pid,) = pool.worker_pids()
            assert await asyncio.to_thread(wait_gone, pid, 3.0)
            assert pool.worker_pids() == []
        finally:
            await pool.close()

    asyncio.run(asyncio.wait_for(run(), 60))
