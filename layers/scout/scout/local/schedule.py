"""The template's Schedule / ScheduleV2 events, fired locally at their rate or cron.

A rate fires one period after the stack starts (as a new EventBridge rule does); ``fire_now``
(``scout dev --fire-schedules``) fires each enabled schedule once at start as well. The event is
the template's ``Input`` when it has one, else the default EventBridge notification.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from scout.local.environment import LocalNames
from scout.local.execution import Invocation, LogSink, PoolClosed
from scout.local.template import Schedule

Invoke = Callable[[dict[str, Any]], Invocation]


def scheduled_event(schedule: Schedule, names: LocalNames, now: datetime) -> Any:
    if schedule.event_input is not None:
        return schedule.event_input
    time_text = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    detail: Any
    if schedule.scheduler:
        resource = f"arn:aws:scheduler:{names.region}:{names.account_id}:schedule/default/{schedule.name}"
        source, detail = "aws.scheduler", "{}"
    else:
        resource = f"arn:aws:events:{names.region}:{names.account_id}:rule/{schedule.name}"
        source, detail = "aws.events", {}
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": source,
        "account": names.account_id,
        "time": time_text,
        "region": names.region,
        "resources": [resource],
        "detail": detail,
    }


class ScheduleRunner:
    """One thread per schedule, sleeping until its next fire time."""

    def __init__(
        self,
        schedule: Schedule,
        names: LocalNames,
        invoke: Invoke,
        log: LogSink | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if schedule.expression is None:
            raise ValueError(f"{schedule.name}: {schedule.expression_text} cannot run locally")
        self.schedule = schedule
        self._names = names
        self._invoke = invoke
        self._log = log or (lambda line: None)
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.fired = 0
        self.next_fire: datetime | None = None

    def start(self, fire_now: bool = False) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(fire_now,), name=f"schedule {self.schedule.name}", daemon=True
        )
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, drain_seconds: float) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=drain_seconds + 1)

    def fire(self) -> Invocation:
        invocation = self._invoke(scheduled_event(self.schedule, self._names, self._clock()))
        self.fired += 1
        outcome = "ok" if invocation.ok else f"{(invocation.error or {}).get('errorType')}"
        self._log(f"[schedule {self.schedule.name}] fired {self.schedule.function_id}: {outcome}")
        return invocation

    def _run(self, fire_now: bool) -> None:
        assert self.schedule.expression is not None
        try:
            if fire_now:
                self.fire()
            last = self._clock()
            while not self._stop.is_set():
                self.next_fire = self.schedule.expression.next_after(last)
                if self.next_fire is None:
                    return
                delay = (self.next_fire - self._clock()).total_seconds()
                if delay > 0 and self._stop.wait(delay):
                    return
                self.fire()
                last = self.next_fire
        except PoolClosed:
            return
