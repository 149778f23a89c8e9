"""Async plumbing of the teacher client: a private event loop in a thread, "all or cancel" gathering, and\nthread-safe futures chained to tasks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable
from typing import Any


class LoopThread:
    """A private event loop in a daemon thread, so ``generate`` works even inside a running loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="teacher-loop", daemon=True)
        self._thread.start()

    def run(self, coroutine: Any) -> Any:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result()
        except BaseException:  # e.g. Ctrl-C in the caller: stop the requests still in flight
            future.cancel()
            raise

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


async def all_or_cancel(coroutines: list[Awaitable[Any]]) -> list[Any]:
    """Run ``coroutines`` concurrently; the first error cancels the others (never left running) and is raised."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        if tasks:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        return [task.result() for task in tasks]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

