"""Client CPU per posting, by stage: what normalising a poll's answers costs, and what was cut.

The polling benchmark measures a whole poll's client CPU; this suite splits the per-posting
part of it into its stages, on the same generated boards (``polling_workload``: ~2.5 KB
descriptions) and the detail answers of Workday and SmartRecruiters:

- ``decode``: the JSON answer parsed (per posting);
- ``sanitise``: nh3 over the description (scout.jobs.safe_html);
- ``html_to_text``: the text read from the sanitised HTML (scout.jobs.html_text);
- ``validate``: the ``Posting`` model built from the finished fields;
- ``serialise``: the posting dumped for the sync and encoded as JSON;
- ``normalise``: the adapter's whole ``normalise`` (it includes sanitise, text and validate).

Baseline, in the same run: the text read the way it was before this suite's cuts, with an
``html.parser`` walk of the raw HTML (``_ParserText`` below, the retired implementation). CPU
is ``time.process_time``; each figure is the median of ``--repetitions`` passes over every
posting. Results: ``bench/results/posting_cpu.json`` and ``posting_cpu.md``.

    python -m bench.posting_cpu [--repetitions 5]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from bench.support.polling_machine import load_average
from bench.support.polling_workload import build_workload, description_html
from bench.support.recording import record
from scout.jobs.ats import ashby, greenhouse, lever, smartrecruiters, workday
from scout.jobs.ats.adapter import merged_posting
from scout.jobs.html_text import text_of_safe_html
from scout.jobs.posting import Posting
from scout.jobs.safe_html import sanitise_html
from tests.support.ats_payloads import smartrecruiters_detail, workday_detail

NOW = datetime(2024, 6, 12, tzinfo=UTC)
WORKDAY = workday.WorkdayBoard(host="acme.wd5.myworkdayjobs.com", tenant="acme", site="External")


# The retired text reader (an html.parser walk of the raw HTML), kept as the baseline.
_OLD_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "fieldset", "figcaption"),
        *("figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "nav"),
        *("ol", "p", "pre", "section", "table", "tbody", "thead", "tfoot", "tr", "ul"),
    }
)
_OLD_SKIPPED = frozenset({"script", "style", "noscript", "template", "head"})
_OLD_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_OLD_BLANK_LINES = re.compile(r"\n[ \n]*\n")


class _ParserText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _OLD_SKIPPED:
            self._skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _OLD_BLOCKS:
            self.parts.append("\n\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _OLD_SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _OLD_BLOCKS:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "hr":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data.replace("\n", " "))


def parser_text(html: str | None) -> str | None:
    """Readable text: paragraphs separated by a blank line, list items as ``- item``."""
    if not html or not html.strip():
        return None
    collector = _ParserText()
    collector.feed(html)
    collector.close()
    text = _OLD_SPACES.sub(" ", "".join(collector.parts))
    lines = [line.strip() for line in text.split("\n")]
    text = _OLD_BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return text or None


def boards() -> dict[str, list[tuple[Any, Callable[[Any], Posting]]]]:
    """Per kind: each raw posting and the adapter call that normalises it."""
    fake = build_workload("http://127.0.0.1:9").fake
    kinds: dict[str, list[tuple[Any, Callable[[Any], Posting]]]] = {}
    for token, jobs in fake.greenhouse.items():
        kinds.setdefault("greenhouse", []).extend(
            (job, lambda raw, b=token: greenhouse.normalise(raw, b)) for job in jobs
        )
    for token, jobs in fake.lever.items():
        kinds.setdefault("lever", []).extend(
            (job, lambda raw, b=token: lever.normalise(raw, b)) for job in jobs
        )
    for token, jobs in fake.ashby.items():
        kinds.setdefault("ashby", []).extend(
            (job, lambda raw, b=token: ashby.normalise(raw, b)) for job in jobs
        )
    for (_tenant, _site), listings in fake.workday.items():
        for n, listing in enumerate(listings):
            detail = workday_detail(listing, description_html=description_html(n))
            kinds.setdefault("workday (list + detail)", []).append(((listing, detail), _workday))
    for token, postings in fake.smartrecruiters.items():
        for n, posting in enumerate(postings):
            detail = smartrecruiters_detail(posting, job_description=description_html(n))
            kinds.setdefault("smartrecruiters (list + detail)", []).append(
                ((posting, detail), lambda raw, b=token: _smartrecruiters(raw, b))
            )
    return kinds


def _workday(raw: tuple[Any, Any]) -> Posting:
    listing, detail = raw
    listed = workday.normalise(listing, WORKDAY, "https://acme.wd5.myworkdayjobs.com/External", NOW)
    return merged_posting(listed, workday.detail_fields(detail["jobPostingInfo"]))


def _smartrecruiters(raw: tuple[Any, Any], board: str) -> Posting:
    listing, detail = raw
    return merged_posting(
        smartrecruiters.normalise(listing, board), smartrecruiters.detail_fields(detail, board)
    )


def cpu_per_item(items: list[Any], work: Callable[[Any], Any], repetitions: int) -> float:
    """Median CPU microseconds of ``work`` per item, over ``repetitions`` passes."""
    passes = []
    for _ in range(repetitions):
        started = time.process_time()
        for item in items:
            work(item)
        passes.append((time.process_time() - started) / len(items))
    return round(statistics.median(passes) * 1e6, 1)


def measure(
    kind: str, entries: list[tuple[Any, Callable[[Any], Posting]]], repetitions: int
) -> dict[str, Any]:
    postings = [normalise(raw) for raw, normalise in entries]
    bodies = [json.dumps(raw).encode() for raw, _ in entries]
    raw_htmls = [_raw_html(raw) for raw, _ in entries]
    safe = [posting.description_html for posting in postings]
    fields = [posting.model_dump() for posting in postings]
    stages = {
        "decode": cpu_per_item(bodies, json.loads, repetitions),
        "sanitise": cpu_per_item(
            [html or "" for html in raw_htmls], lambda html: sanitise_html(str(html)), repetitions
        ),
        "html_to_text": cpu_per_item(safe, text_of_safe_html, repetitions),
        "validate": cpu_per_item(
            fields, lambda data: Posting.model_validate({**data, "description_html": None}), repetitions
        ),
        "serialise": cpu_per_item(
            postings, lambda posting: json.dumps(posting.model_dump(mode="json")), repetitions
        ),
        "normalise": cpu_per_item(entries, lambda entry: entry[1](entry[0]), repetitions),
    }
    baseline_text = cpu_per_item([html or "" for html in raw_htmls], parser_text, repetitions)
    return {
        "kind": kind,
        "postings": len(entries),
        "cpu_us_per_posting": stages,
        "baseline_html_parser_text_us": baseline_text,
        "text_speedup_vs_baseline": round(baseline_text / stages["html_to_text"], 2)
        if stages["html_to_text"]
        else None,
    }


def _raw_html(raw: Any) -> str | None:
    if isinstance(raw, tuple):
        detail = raw[1]
        if "jobPostingInfo" in detail:
            return str(detail["jobPostingInfo"]["jobDescription"])
        return "".join(section["text"] for section in detail["jobAd"]["sections"].values())
    for key in ("content", "description", "descriptionHtml"):
        if isinstance(raw.get(key), str):
            import html

            return html.unescape(raw[key]) if key == "content" else str(raw[key])
    return None


def render(results: dict[str, Any]) -> str:
    lines = [
        "# Client CPU per posting: results",
        "",
        f"Produced by `{results['command']}` on {results['recorded_at']}. Load average before/after: "
        f"{results['load_average_before']} / {results['load_average_after']} (shared machine: CPU times "
        "move less than wall times, but still move). Medians of "
        f"{results['repetitions']} passes; microseconds of CPU per posting.",
        "",
        "| kind | postings | decode | sanitise | html_to_text | validate | serialise | whole normalise "
        "| baseline text (html.parser) | text speed-up |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results["kinds"]:
        stage = row["cpu_us_per_posting"]
        lines.append(
            f"| {row['kind']} | {row['postings']} | {stage['decode']} | {stage['sanitise']} | "
            f"{stage['html_to_text']} | {stage['validate']} | {stage['serialise']} | {stage['normalise']} | "
            f"{row['baseline_html_parser_text_us']} | {row['text_speedup_vs_baseline']}x |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.posting_cpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv or [])
    before = load_average()
    kinds = [measure(kind, entries, args.repetitions) for kind, entries in boards().items()]
    results = {
        "suite": "posting_cpu",
        "command": "python -m bench" if argv is None else " ".join(["python -m bench.posting_cpu", *argv]),
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "repetitions": args.repetitions,
        "load_average_before": before,
        "load_average_after": load_average(),
        "kinds": kinds,
    }
    report = render(results)
    print(report)
    if not args.no_record:
        record("posting_cpu", results, report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
