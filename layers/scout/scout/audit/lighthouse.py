"""The Python side of the persistent Lighthouse worker (``layers/node/lighthouse-worker.mjs``).

One Node process with its own Chrome per execution environment, started on first use and
given one job at a time over newline-delimited JSON on its stdin/stdout; the reports come
back as files in a folder of the job's own. The worker is replaced after ``max_runs`` runs,
when it dies, when a run fails inside Lighthouse (its Chrome may be unwell), and when a run
outlives its timeout: a run cannot be cancelled inside Lighthouse, so the process goes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import signal
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scout.audit.chromium_flags import chromium_flags
from scout.audit.egress_gate import EgressGate
from scout.audit.node_layer import NodeLayer
from scout.audit.result import (
    Device,
    LighthouseMetrics,
    LighthouseScores,
    LighthouseSummary,
    LighthouseTiming,
)
from scout.audit.scan_errors import ScanFailure, failure_from_lighthouse
from scout.audit.scratch_dirs import ScratchDirs
from scout.observability import logger

if TYPE_CHECKING:
    from scout.settings import Settings

_STOP_GRACE_SECONDS = 5.0
_EXIT_POLL_SECONDS = 0.02
_STOPPED_UNEXPECTEDLY = "The performance audit (Lighthouse) stopped unexpectedly. Trying again usually works."
_STDERR_TAIL_LINES = 20
# Lines on stdout are small summaries; the limit only guards against a runaway worker.
_LINE_LIMIT_BYTES = 1 << 20


# What a run gathers (layers/node/lighthouse-runs.mjs): "full" is Lighthouse's whole run of the
# four categories; "performance" only the performance category, without the full-page
# screenshot or an HTML report (the repeated runs of a scan, scout.audit.repeated_runs).
RunScope = Literal["full", "performance"]


class _RuntimeError(BaseModel):
    code: str | None = None
    message: str | None = None


class LighthouseRunSummary(BaseModel):
    """What the worker reports about a run, next to the report files."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    lighthouse_version: str = Field(alias="lighthouseVersion")
    final_displayed_url: str | None = Field(default=None, alias="finalDisplayedUrl")
    main_document_url: str | None = Field(default=None, alias="mainDocumentUrl")
    scores: dict[str, float | None]
    metrics: dict[str, float | None] = Field(default_factory=dict)
    timing_total_ms: float | None = None
    runtime_error: _RuntimeError | None = Field(default=None, alias="runtimeError")
    run_warnings: list[str] = Field(default_factory=list, alias="runWarnings")

    @classmethod
    def from_worker(cls, raw: dict[str, Any]) -> LighthouseRunSummary:
        timing = raw.get("timing") or {}
        return cls.model_validate({**raw, "timing_total_ms": timing.get("total")})

    def to_result(self) -> LighthouseSummary:
        def score(category: str) -> int | None:
            value = self.scores.get(category)
            return None if value is None else round(value * 100)

        metric = self.metrics.get
        return LighthouseSummary(
            scores=LighthouseScores(
                performance=score("performance"),
                accessibility=score("accessibility"),
                best_practices=score("best-practices"),
                seo=score("seo"),
            ),
            metrics=LighthouseMetrics(
                first_contentful_paint_ms=metric("first-contentful-paint"),
                largest_contentful_paint_ms=metric("largest-contentful-paint"),
                total_blocking_time_ms=metric("total-blocking-time"),
                cumulative_layout_shift=metric("cumulative-layout-shift"),
                speed_index_ms=metric("speed-index"),
                time_to_interactive_ms=metric("interactive"),
            ),
            timing=LighthouseTiming(total_ms=self.timing_total_ms),
            lighthouse_version=self.lighthouse_version,
            final_url=self.final_displayed_url or self.main_document_url,
            warnings=self.run_warnings,
        )


@dataclass(frozen=True)
class LighthouseRun:
    summary: LighthouseRunSummary
    report_json: bytes
    # None for a "performance" run, which writes no HTML report.
    report_html: bytes | None
    # Whether the worker had started resolving this run's Lighthouse configuration before
    # the run was asked for (it does so after each run, for the next one of its kind).
    config_prepared: bool = False


class _WorkerGone(Exception):
    """The worker's stdout ended: the process exited or was killed."""


class LighthouseWorker:
    def __init__(
        self,
        *,
        chromium_path: str,
        node: NodeLayer | None = None,
        node_binary: str = "node",
        egress: EgressGate,
        max_runs: int = 20,
        run_timeout_seconds: float = 120.0,
        start_timeout_seconds: float = 60.0,
    ) -> None:
        self._chromium_path = chromium_path
        self._node = node or NodeLayer.default()
        self._node_binary = node_binary
        self._egress = egress
        self._max_runs = max_runs
        self._run_timeout_seconds = run_timeout_seconds
        self._start_timeout_seconds = start_timeout_seconds
        self._lock = asyncio.Lock()
        self._process: asyncio.subprocess.Process | None = None
        self._chrome_pid: int | None = None
        self._tmp_dir: Path | None = None
        self._scratch = ScratchDirs("scout-lighthouse-")
        self._stderr_task: asyncio.Task[None] | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self._runs_on_process = 0
        self.starts = 0
        self.closed = False

    @classmethod
    def from_settings(cls, settings: Settings, *, egress: EgressGate) -> LighthouseWorker:
        return cls(
            chromium_path=settings.chromium_path,
            node=NodeLayer.from_settings(settings),
            node_binary=settings.node_binary,
            egress=egress,
            max_runs=settings.lighthouse_max_runs,
            run_timeout_seconds=settings.lighthouse_timeout_seconds,
        )

    @property
    def pid(self) -> int | None:
        """The Node process's id while one runs."""
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    @property
    def chrome_pid(self) -> int | None:
        return self._chrome_pid if self.pid is not None else None

    @property
    def tmp_dir(self) -> Path | None:
        return self._tmp_dir

    async def start(self) -> None:
        """Start the worker now rather than on the first run (e.g. during a Lambda's init)."""
        async with self._lock:
            await self._ensure_started()

    async def run(
        self,
        url: str,
        device: Device,
        *,
        max_wait_for_load_ms: int,
        scope: RunScope = "full",
        next_scope: RunScope | None = None,
    ) -> LighthouseRun:
        """One Lighthouse run; raises ScanFailure("lighthouse_failed") when it cannot finish.

        ``next_scope`` is the scope of the run expected next (default: this one's), whose
        configuration the worker resolves once this run's result is out.
        """
        job = {
            "type": "run",
            "url": url,
            "device": device,
            "maxWaitForLoadMs": max_wait_for_load_ms,
            "scope": scope,
            "nextScope": next_scope or scope,
        }
        return await self._submit(job)

    async def render_html(self, report_json: bytes) -> bytes:
        """Lighthouse's HTML report of a Lighthouse JSON report (a scan's combined report)."""
        run = await self._submit({"type": "render"}, report_json=report_json)
        if run.report_html is None:
            raise ScanFailure("lighthouse_failed", detail="the worker rendered no HTML report")
        return run.report_html

    async def _submit(self, job: dict[str, Any], *, report_json: bytes | None = None) -> LighthouseRun:
        if self.closed:
            raise RuntimeError("the Lighthouse worker is closed")
        async with self._lock:
            for attempt in (1, 2):
                await self._ensure_started()
                try:
                    return await self._run_once(job, report_json)
                except _WorkerGone as gone:
                    accepted = gone.args[0] if gone.args else True
                    await self._stop(kill=True, reason="worker exited")
                    # A worker that died between jobs never saw this one: give it to a fresh one.
                    if attempt == 1 and not accepted:
                        continue
                    raise ScanFailure(
                        "lighthouse_failed", _STOPPED_UNEXPECTEDLY, detail=self._stderr_summary()
                    ) from None
            raise AssertionError("unreachable")

    async def aclose(self) -> None:
        self.closed = True
        async with self._lock:
            await self._stop(kill=False, reason="closed")

    # -- one run -----------------------------------------------------------------------

    async def _run_once(self, job: dict[str, Any], report_json: bytes | None) -> LighthouseRun:
        process = self._process
        assert process is not None
        assert process.stdin is not None
        assert self._tmp_dir is not None
        job_id = uuid.uuid4().hex
        out_dir = Path(tempfile.mkdtemp(prefix="run-", dir=self._tmp_dir))
        job = {**job, "id": job_id, "outDir": str(out_dir)}
        if report_json is not None:
            json_path = out_dir / "input.json"
            await asyncio.to_thread(json_path.write_bytes, report_json)
            job["jsonPath"] = str(json_path)
        if job["type"] == "run":
            self._runs_on_process += 1
        try:
            try:
                process.stdin.write(json.dumps(job).encode() + b"\n")
                await process.stdin.drain()
            except (BrokenPipeError, ConnectionResetError):
                raise _WorkerGone(False) from None
            try:
                message = await asyncio.wait_for(self._result_for(job_id), self._run_timeout_seconds)
            except TimeoutError:
                await self._stop(kill=True, reason="run timed out")
                raise ScanFailure(
                    "lighthouse_failed",
                    f"The performance audit (Lighthouse) did not finish within "
                    f"{self._run_timeout_seconds:g} seconds.",
                ) from None
            except _WorkerGone:
                raise
            except BaseException:
                # Cancelled mid-run: the worker is still busy with a job nobody awaits.
                await self._stop(kill=True, reason="run abandoned")
                raise
            return await self._finish(message)
        finally:
            await self._scratch.remove(out_dir)

    async def _result_for(self, job_id: str) -> dict[str, Any]:
        accepted = False
        while True:
            message = await self._read_message()
            if message is None:
                raise _WorkerGone(accepted)
            if message.get("id") != job_id:
                continue
            if message.get("type") == "accepted":
                accepted = True
            elif message.get("type") == "result":
                return message

    async def _finish(self, message: dict[str, Any]) -> LighthouseRun:
        if not message.get("ok"):
            error = message.get("error") or {}
            # Lighthouse threw rather than reporting a page problem: its Chrome may be in a
            # bad state, so the next run gets a fresh worker.
            await self._stop(kill=False, reason="run failed")
            raise failure_from_lighthouse(error.get("code"), error.get("message"))
        try:
            summary = LighthouseRunSummary.from_worker(message["summary"])
            html_path = message.get("htmlPath")
            report_json, report_html = await asyncio.gather(
                asyncio.to_thread(Path(message["jsonPath"]).read_bytes),
                asyncio.to_thread(Path(html_path).read_bytes) if html_path else _nothing(),
            )
        except (KeyError, TypeError, ValidationError, OSError) as exc:
            raise ScanFailure("lighthouse_failed", detail=f"unreadable worker result: {exc}") from exc
        if summary.runtime_error is not None:
            raise failure_from_lighthouse(summary.runtime_error.code, summary.runtime_error.message)
        return LighthouseRun(
            summary=summary,
            report_json=report_json,
            report_html=report_html,
            config_prepared=message.get("configPrepared") is True,
        )

    # -- the process -----------------------------------------------------------------

    async def _ensure_started(self) -> None:
        process = self._process
        # A Chrome killed between runs (out of memory, a frozen Lambda thawed) leaves a worker
        # that has not noticed yet and would fail the next run with "Target closed".
        chrome_gone = self._chrome_pid is not None and not _process_running(self._chrome_pid)
        if process is None or process.returncode is not None or chrome_gone:
            reason = "chrome exited" if chrome_gone else "worker exited"
        elif self._runs_on_process >= self._max_runs:
            reason = "max runs reached"
        else:
            return
        if process is not None:
            await self._stop(kill=reason != "max runs reached", reason=reason)
        await self._start()

    async def _start(self) -> None:
        self._node.require_installed()
        await self._scratch.sweep()
        tmp_dir = self._scratch.make()
        config = {
            "chromePath": self._chromium_path,
            "chromeFlags": chromium_flags(headless_flag=True, extra=await self._egress.browser_args()),
        }
        env = {
            **os.environ,
            # chrome-launcher makes Chrome's profile under TMPDIR: it goes when tmp_dir goes.
            "TMPDIR": str(tmp_dir),
            "SCOUT_LIGHTHOUSE_WORKER_CONFIG": json.dumps(config),
        }
        self._stderr_tail.clear()
        try:
            process = await asyncio.create_subprocess_exec(
                self._node_binary,
                str(self._node.lighthouse_worker_script),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=self._node.root,
                env=env,
                start_new_session=True,
                limit=_LINE_LIMIT_BYTES,
            )
        except OSError as exc:
            await self._scratch.remove(tmp_dir)
            raise ScanFailure(
                "lighthouse_failed", "The performance audit (Lighthouse) could not start.", detail=str(exc)
            ) from exc
        self._process = process
        self._tmp_dir = tmp_dir
        self._chrome_pid = None
        self._runs_on_process = 0
        self._stderr_task = asyncio.get_running_loop().create_task(self._drain_stderr(process))
        try:
            ready = await asyncio.wait_for(self._read_message(), self._start_timeout_seconds)
        except (TimeoutError, asyncio.CancelledError):
            await self._stop(kill=True, reason="start timed out")
            raise
        if ready is None or ready.get("type") != "ready":
            await self._stop(kill=True, reason="start failed")
            reason = ready.get("message") if ready is not None else None
            raise ScanFailure(
                "lighthouse_failed",
                "The performance audit (Lighthouse) could not start.",
                detail=str(reason) if reason else self._stderr_summary(),
            )
        self._chrome_pid = int(ready["chromePid"])
        self.starts += 1
        logger.info(
            "lighthouse worker started",
            extra={
                "pid": process.pid,
                "chrome_pid": self._chrome_pid,
                "version": ready.get("lighthouseVersion"),
            },
        )

    async def _stop(self, *, kill: bool, reason: str) -> None:
        process, self._process = self._process, None
        chrome_pid, self._chrome_pid = self._chrome_pid, None
        tmp_dir, self._tmp_dir = self._tmp_dir, None
        if process is not None:
            logger.info("lighthouse worker stopping", extra={"pid": process.pid, "reason": reason})
            if not kill and process.returncode is None and process.stdin is not None:
                # End of input is the worker's signal to kill its Chrome and exit.
                with contextlib.suppress(Exception):
                    process.stdin.close()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), _STOP_GRACE_SECONDS)
            _kill_group(process.pid)
            await process.wait()
        # chrome-launcher puts Chrome in a process group of its own, which outlives a
        # killed Node; it is killed by its own group id.
        if chrome_pid is not None:
            _kill_group(chrome_pid)
            await _exited(chrome_pid, within_seconds=_STOP_GRACE_SECONDS)
        if self._stderr_task is not None:
            self._stderr_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stderr_task
            self._stderr_task = None
        if tmp_dir is not None:
            await self._scratch.remove(tmp_dir)

    async def _read_message(self) -> dict[str, Any] | None:
        """The next JSON message on the worker's stdout; None at end of output."""
        process = self._process
        assert process is not None
        assert process.stdout is not None
        while True:
            line = await process.stdout.readline()
            if not line:
                return None
            try:
                message = json.loads(line)
            except ValueError:
                logger.warning("lighthouse worker wrote a non-JSON line", extra={"line": line[:200]})
                continue
            if isinstance(message, dict):
                return message

    async def _drain_stderr(self, process: asyncio.subprocess.Process) -> None:
        # An undrained pipe fills up and then blocks the worker mid-run.
        assert process.stderr is not None
        while chunk := await process.stderr.read(65536):
            for line in chunk.decode(errors="replace").splitlines():
                if line.strip():
                    self._stderr_tail.append(line[:500])
                    logger.debug("lighthouse worker", extra={"stderr": line[:2000]})

    def _stderr_summary(self) -> str:
        return " | ".join(self._stderr_tail) or "no output"


async def _nothing() -> None:
    return None


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


async def _exited(pid: int, *, within_seconds: float) -> None:
    # SIGKILL is delivered, not executed: a big Chrome takes a moment to tear down its memory,
    # and the next worker should not start while the last one still holds it.
    # Nothing signals a non-child's exit, so /proc is polled.
    for _ in range(int(within_seconds / _EXIT_POLL_SECONDS)):
        if not _process_running(pid):
            return
        await asyncio.sleep(_EXIT_POLL_SECONDS)
    logger.warning("chrome outlived its kill", extra={"chrome_pid": pid})


def _process_running(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (dead, not yet reaped by its parent) does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no procfs: existence is all there is to know
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
