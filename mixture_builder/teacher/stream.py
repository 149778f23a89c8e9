"""``RequestStream``: many documents' requests in flight through one ``Teacher``, results read in input order.

``Teacher.stream()`` opens one (what ``TeacherStep`` streams a shard with). ``submit(documents)`` hands a batch
of documents (each a list of requests) to the teacher's loop and returns one ``Ticket`` per document at once;
``results(ticket)`` blocks until that document's results are in, or raises the first error of any document
(a bug stops the stream at once); ``cancel(tickets)`` drops what is still pending and waits until it is gone.
Requests keep the teacher's usual path (cache, in-flight twins sent once, oldest submission first, retries,
repair on arrival).

The hand-over is lean on purpose: per document the loop sets one attribute, and a caller waiting for a
document looks again every ``POLL_S`` instead of being woken by the loop. Waking the caller as each awaited
document completes (a ``threading.Event``, or ``concurrent.futures`` futures with ~10 lock operations per
document) costs thousands of cross-thread wake-ups per second at hundreds of requests in flight, and each one
makes the two threads trade the GIL: at 256 in flight that made a streamed shard use ~30% more CPU per
request than one ``Teacher.generate`` call. Polling batches the documents that completed meanwhile into one
wake-up; the reorder window keeps the endpoint busy while the caller sleeps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from mixture_builder.teacher.types import ChatRequest, ChatResult

if TYPE_CHECKING:
    from mixture_builder.teacher.aio import LoopThread
    from mixture_builder.teacher.client import Teacher

POLL_S = 0.01
"""How often a caller waiting for a document's results looks again (see the module docstring)."""


class Ticket:
    """One submitted document: its requests, then its results (``None`` until they are all in)."""

    __slots__ = ("requests", "results", "task")

    def __init__(self, requests: list[ChatRequest]) -> None:
        self.requests = requests
        self.results: list[ChatResult] | None = None if requests else []
        self.task: asyncio.Task[None] | None = None


class RequestStream:
    """Documents' requests streamed through one ``Teacher`` (see the module docstring)."""

    def __init__(self, teacher: Teacher, loop_thread: LoopThread) -> None:
        self._teacher = teacher
        self._loop_thread = loop_thread
        self._loop = loop_thread.loop
        self._error: BaseException | None = None

    def submit(self, documents: Iterable[Sequence[ChatRequest]]) -> list[Ticket]:
        """Schedule the documents' requests and return at once, one ticket per document, in order."""
        tickets = [Ticket(list(requests)) for requests in documents]
        pending = [ticket for ticket in tickets if ticket.results is None]
        if pending:
            self._loop.call_soon_threadsafe(self._start, pending)
        return tickets

    def results(self, ticket: Ticket) -> list[ChatResult]:
        """The ticket's results in request order (blocking), or the first error raised by any document."""
        while ticket.results is None:
            if self._error is not None:
                raise self._error
            time.sleep(POLL_S)
        return ticket.results

    def cancel(self, tickets: Iterable[Ticket]) -> None:
        """Drop the requests of unfinished tickets and wait until they are gone (their claims released)."""
        pending = [ticket for ticket in tickets if ticket.results is None]
        if pending:
            self._loop_thread.run(self._cancel(pending))

    # ------------------------------------------------------------------ on the teacher's loop
    def _start(self, tickets: list[Ticket]) -> None:
        """One cache lookup for the batch, then (before anything can complete) each document claims its uncached
        requests and starts as a task, so identical requests in flight at the same time are sent once."""
        teacher = self._teacher
        try:
            keys = [[teacher.key(r) for r in ticket.requests] for ticket in tickets]
            cached = teacher.cache.get_many([k for ks in keys for k in ks]) if teacher.cache is not None else {}
            teacher._loop_state()  # builds the transport: a failure here reaches the caller
        except BaseException as error:  # noqa: BLE001 — handed to the caller, who raises it
            self._fail(error)
            return
        for ticket, doc_keys in zip(tickets, keys):
            claims = {key: teacher._claim(key) for key in doc_keys if key not in cached}
            ticket.task = self._loop.create_task(self._complete(ticket, doc_keys, cached, claims,
                                                                teacher.next_priority()))

    async def _complete(self, ticket: Ticket, keys: list[str], cached: dict[str, ChatResult],
                        claims: dict[str, Any], priority: int) -> None:
        try:
            ticket.results = await self._teacher._complete_group(ticket.requests, keys, cached, claims, priority)
        except asyncio.CancelledError:
            # cancelled by ``cancel``, or a twin's sender failed (its error reaches the caller on its own)
            self._teacher._drop_claims(claims)
            raise
        except BaseException as error:  # noqa: BLE001 — handed to the caller, who raises it
            self._teacher._drop_claims(claims)
            self._fail(error)

    @staticmethod
    async def _cancel(tickets: list[Ticket]) -> None:
        tasks = [ticket.task for ticket in tickets if ticket.task is not None and not ticket.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _fail(self, error: BaseException) -> None:
        if self._error is None:
            self._error = error
