"""Powertools' async batch processing, run on the process's one event loop.

``AsyncBatchProcessor.async_process`` runs the batch with ``asyncio.run`` outside Lambda and
on ``asyncio.get_event_loop()`` inside it, so the loop can differ from the one the pooled
clients (store, HTTP) were made on (``scout.runtime``): locally every invocation would get a
new loop and break them. This processor gathers the records on ``runtime.run`` instead and
keeps everything else of Powertools: record parsing, failure bookkeeping and the
``batchItemFailures`` response.
"""

from __future__ import annotations

import asyncio

from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor

from scout import runtime


class LoopBoundBatchProcessor(AsyncBatchProcessor):
    def async_process(self) -> list[tuple]:
        async def process_all() -> list[tuple]:
            return list(
                await asyncio.gather(*(self._async_process_record(record) for record in self.records))
            )

        return runtime.run(process_all())
