"""How tests serve with dependencies of their own: through ``scout.deps.using``, the one
override point, never by clearing caches or re-importing modules."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from scout import deps
from scout.deps import Dependencies
from scout.settings import load_settings

# The parts replaced by the blocks now open, innermost last, so that a block rebuilding the
# dependencies for a changed environment keeps the test's store, queue or fake scanner.
_replaced: list[dict[str, Any]] = []


@contextlib.contextmanager
def serving_environment(**parts: Any) -> Iterator[Dependencies]:
    """Serve with dependencies built from the environment as it is when they are first used,
    with ``parts`` (a store, a queue, ...) and those of the enclosing blocks replacing the
    ones that would be built."""
    replaced = {**(_replaced[-1] if _replaced else {}), **parts}
    _replaced.append(replaced)
    try:
        with deps.using(Dependencies(load_settings, **replaced)) as dependencies:
            yield dependencies
    finally:
        _replaced[:] = [entry for entry in _replaced if entry is not replaced]


@contextlib.contextmanager
def rewiring() -> Iterator[Callable[[], None]]:
    """``rewire()`` after changing the environment mid-test: the rest of the block serves with
    dependencies built from the environment as it is then."""
    with contextlib.ExitStack() as stack:

        def rewire() -> None:
            stack.enter_context(serving_environment())

        yield rewire
