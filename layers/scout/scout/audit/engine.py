"""The scan engine: check the target, then Lighthouse and the browser half side by side.

``ScanEngine.scan(url, device)`` returns a ``ScanOutcome``: the scan result (docs/audit.md) and the
artifacts (screenshot, Lighthouse HTML and JSON, axe JSON) for the queue worker to upload.
The browser pool, the Lighthouse worker, the egress gate and the axe script are injected:
in production they are the execution environment's pooled ones, built by :mod:`scout.deps`
and all routed through the one egress guard.

Lighthouse and the browser half run concurrently and fail independently: one failing gives
a ``partial`` result, both failing a ``failed`` one. With ``runs`` above one, Lighthouse runs
that many times one after another in the same warm worker while axe runs once; the result
reports the median run (``scout.audit.repeated_runs``: the first run gathers every category,
the later ones performance only, and a median among those is reported in a combined report
that the worker renders). With a ``budget``, the result carries
its verdict (``scout.audit.budget``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, get_args

from scout.audit.axe import AxeScript
from scout.audit.browser_pool import BrowserPool
from scout.audit.budget import Budget, evaluate_budget
from scout.audit.devices import DEVICES
from scout.audit.egress_gate import EgressGate
from scout.audit.lighthouse import LighthouseRun, LighthouseWorker
from scout.audit.node_layer import NodeLayer
from scout.audit.page_audit import PageAudit, PageAuditOptions, PageProgress, audit_page
from scout.audit.repeated_runs import NumberedRun, combine_reports, full_run, report_runs, run_scope
from scout.audit.result import (
    MAX_RUNS,
    Device,
    FinishedStatus,
    LighthouseSummary,
    ScanArtifacts,
    ScanOutcome,
    ScanResult,
    ScanStatus,
    Timings,
)
from scout.audit.scan_errors import ScanFailure, failure_from_scout_error
from scout.errors import ScoutError
from scout.observability import logger

if TYPE_CHECKING:
    from scout.settings import Settings


@dataclass(frozen=True)
class _LighthouseRuns:
    # The reported run (the median one, its report combined when it gathered only performance).
    reported: LighthouseRun
    summary: LighthouseSummary


_Part = TypeVar("_Part", _LighthouseRuns, PageAudit)


@dataclass(frozen=True)
class ScanOptions:
    navigation_timeout_seconds: float = 30.0
    screenshot_max_height: int = 6000
    network_idle_seconds: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ScanOptions:
        return cls(
            navigation_timeout_seconds=settings.navigation_timeout_seconds,
            screenshot_max_height=settings.screenshot_max_height,
        )


class ScanEngine:
    def __init__(
        self,
        *,
        browser_pool: BrowserPool,
        lighthouse: LighthouseWorker,
        egress: EgressGate,
        axe_script: AxeScript,
        options: ScanOptions,
    ) -> None:
        self._browser_pool = browser_pool
        self._lighthouse = lighthouse
        self._egress = egress
        self._axe_script = axe_script
        self._options = options
        # Parts this engine launched for itself (with_own_browsers), closed by aclose();
        # pooled ones belong to the execution environment and close with its event loop.
        self._owned: list[BrowserPool | LighthouseWorker] = []

    @classmethod
    def with_own_browsers(
        cls,
        settings: Settings,
        *,
        egress: EgressGate,
        axe_script: AxeScript | None = None,
        options: ScanOptions | None = None,
    ) -> ScanEngine:
        """An engine with a browser and a Lighthouse worker of its own, closed by :meth:`aclose`
        (tests and benchmarks; production scans use the pooled ones of :mod:`scout.deps`)."""
        browser_pool = BrowserPool.from_settings(settings, egress=egress)
        lighthouse = LighthouseWorker.from_settings(settings, egress=egress)
        engine = cls(
            browser_pool=browser_pool,
            lighthouse=lighthouse,
            egress=egress,
            axe_script=axe_script or AxeScript(NodeLayer.from_settings(settings).axe_script),
            options=options or ScanOptions.from_settings(settings),
        )
        engine._owned = [browser_pool, lighthouse]
        return engine

    @property
    def browser_pool(self) -> BrowserPool:
        return self._browser_pool

    @property
    def lighthouse(self) -> LighthouseWorker:
        return self._lighthouse

    async def warm(self) -> None:
        """Launch the browser and start the Lighthouse worker ahead of the first scan."""
        await asyncio.gather(self._browser_pool.browser(), self._lighthouse.start())

    async def scan(
        self, url: str, device: Device = "mobile", *, runs: int = 1, budget: Budget | None = None
    ) -> ScanOutcome:
        if device not in get_args(Device):
            raise ValueError(f"device must be one of {', '.join(get_args(Device))}, not {device!r}")
        if not 1 <= runs <= MAX_RUNS:
            raise ValueError(f"runs must be between 1 and {MAX_RUNS}, not {runs}")
        started = time.perf_counter()
        try:
            target = await self._egress.check(url)
        except ScoutError as exc:
            failure = failure_from_scout_error(exc)
            result = _result(
                url, device, ScanStatus.FAILED, failure, None, None, None, Timings(total_ms=_ms(started))
            )
            _log(result)
            return ScanOutcome(result=result, artifacts=ScanArtifacts())

        progress = PageProgress()
        lighthouse_ms: list[int] = []
        lighthouse_outcome, page_outcome = await asyncio.gather(
            self._run_lighthouse(target, device, runs, lighthouse_ms),
            audit_page(
                target,
                DEVICES[device],
                pool=self._browser_pool,
                egress=self._egress,
                axe_script=self._axe_script,
                options=PageAuditOptions(
                    navigation_timeout_seconds=self._options.navigation_timeout_seconds,
                    screenshot_max_height=self._options.screenshot_max_height,
                    network_idle_seconds=self._options.network_idle_seconds,
                ),
                progress=progress,
            ),
            return_exceptions=True,
        )
        lighthouse_runs, lighthouse_failure = _split(lighthouse_outcome, _LighthouseRuns, "lighthouse")
        page, page_failure = _split(page_outcome, PageAudit, "browser")
        status: FinishedStatus = ScanStatus.SUCCEEDED
        if lighthouse_failure and page_failure:
            status = ScanStatus.FAILED
        elif lighthouse_failure or page_failure:
            status = ScanStatus.PARTIAL
        lighthouse_run = lighthouse_runs.reported if lighthouse_runs else None
        lighthouse_summary = lighthouse_runs.summary if lighthouse_runs else None
        final_url = progress.final_url or (lighthouse_summary.final_url if lighthouse_summary else None)
        result = _result(
            url,
            device,
            status,
            page_failure or lighthouse_failure,
            final_url,
            lighthouse_summary,
            page,
            Timings(
                total_ms=_ms(started),
                navigation_ms=progress.navigation_ms,
                lighthouse_ms=lighthouse_ms[0] if lighthouse_ms else None,
                axe_ms=progress.axe_ms,
            ),
        )
        if budget is not None:
            result = result.model_copy(update={"budget": evaluate_budget(budget, result)})
        artifacts = ScanArtifacts(
            screenshot_png=page.screenshot_png if page else None,
            lighthouse_html=lighthouse_run.report_html if lighthouse_run else None,
            lighthouse_json=lighthouse_run.report_json if lighthouse_run else None,
            axe_json=page.axe_json if page else None,
        )
        _log(result)
        return ScanOutcome(result=result, artifacts=artifacts)

    async def aclose(self) -> None:
        owned, self._owned = self._owned, []
        for part in owned:
            await part.aclose()

    async def _run_lighthouse(
        self, url: str, device: Device, runs: int, elapsed: list[int]
    ) -> _LighthouseRuns:
        """``runs`` runs one after another, and the reported one; a first run that fails fails them all.

        A page that fails Lighthouse once (a timeout, an HTTP error) would fail it each time,
        so the scan does not spend the rest of its time repeating that. A later run that
        fails is left out with a warning: the runs before it still measured the page.
        """
        started = time.perf_counter()
        finished: list[NumberedRun] = []
        warnings: list[str] = []
        try:
            for number in range(1, runs + 1):
                scope = run_scope(number)
                try:
                    run = await self._lighthouse.run(
                        url,
                        device,
                        max_wait_for_load_ms=round(self._options.navigation_timeout_seconds * 1000),
                        scope=scope,
                        # The run after this scan's last is most likely the next scan's first.
                        next_scope=run_scope(number + 1 if number < runs else 1),
                    )
                except ScanFailure as failure:
                    if not finished:
                        raise
                    warnings.append(
                        f"Lighthouse run {number} of {runs} failed and is left out: {failure.message}"
                    )
                    continue
                finished.append(NumberedRun(number, run, scope))
            chosen, summary = report_runs(finished, warnings=warnings)
            if chosen.scope == "full":
                return _LighthouseRuns(chosen.run, summary)
            full = full_run(finished)
            report_json = combine_reports(
                full.run.report_json,
                chosen.run.report_json,
                full_number=full.number,
                performance_number=chosen.number,
            )
            report_html = await self._lighthouse.render_html(report_json)
            return _LighthouseRuns(
                LighthouseRun(summary=chosen.run.summary, report_json=report_json, report_html=report_html),
                summary,
            )
        finally:
            elapsed.append(_ms(started))


def _split(
    outcome: _Part | BaseException, kind: type[_Part], part: str
) -> tuple[_Part | None, ScanFailure | None]:
    if isinstance(outcome, kind):
        return outcome, None
    if isinstance(outcome, ScanFailure):
        return None, outcome
    # A bug, not a page problem: keep the traceback in the logs, say little in the result.
    assert isinstance(outcome, BaseException)
    logger.error(f"the {part} half of a scan raised", exc_info=outcome)
    return None, ScanFailure("internal_error", detail=f"{type(outcome).__name__}: {outcome}")


def _result(
    url: str,
    device: Device,
    status: FinishedStatus,
    failure: ScanFailure | None,
    final_url: str | None,
    lighthouse: LighthouseSummary | None,
    page: PageAudit | None,
    timings: Timings,
) -> ScanResult:
    return ScanResult(
        url=url,
        final_url=final_url,
        device=device,
        status=status,
        error=failure.as_error() if failure else None,
        lighthouse=lighthouse,
        axe=page.axe if page else None,
        timings=timings,
    )


def _log(result: ScanResult) -> None:
    logger.info(
        "scan finished",
        extra={
            "url": result.url,
            "device": result.device,
            "status": result.status,
            "error_code": result.error.code if result.error else None,
            "timings": result.timings.model_dump(),
        },
    )


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
