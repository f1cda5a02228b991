"""The embedded model's one queue: every request is a job stepped on one worker thread.

A job advances one step at a time: it starts (formats and tokenizes its prompt), evaluates
its prompt in chunks of :data:`PREFILL_CHUNK` tokens, then produces one piece (about one
token) per step. Before every step the worker picks the most urgent job still alive:
completions first, then chat and actions in arrival order. So a chat answer gives way to a
completion within one token (or one prompt chunk) and resumes afterwards where it stopped.

Two generations interleaved on one ``Llama`` object would corrupt each other (they share its
KV cache and token counter), so every class of job has a context of its own
(:data:`CONTEXT_OF`): the completion context keeps its prompt prefix warm while a chat runs.
Within a context one job runs from start to end before the next starts (first come, first
served), which the order of picking guarantees as long as each rank has one context of its
own and no context serves two ranks.

The worker tells each job when it starts waiting (``"wait"``: queued or preempted) and when
it runs again (``"run"``), so the consumer can report keep-alives while it waits.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

from quill.models.base import Priority

log = logging.getLogger(__name__)

#: the order of service: lower first; equal ranks in arrival order
RANK: dict[Priority, int] = {"completion": 0, "chat": 1, "actions": 1}
#: which llama context serves each priority (one running generation per context)
CONTEXT_OF: dict[Priority, str] = {"completion": "completion", "chat": "chat", "actions": "chat"}
#: prompt tokens a preemptible job evaluates per step (a waiting completion waits for at
#: most one such chunk: about 0.3 s for SmolLM2 on one thread); fixed, so the numbers (and
#: a greedy answer) never depend on when the job was preempted
PREFILL_CHUNK = 32

Produce = Callable[[Any], Iterator[str]]
Post = Callable[[str, Any], None]


@dataclass(eq=False)
class Job:
    """One request: how to start it on a context, and where its events go."""

    priority: Priority
    produce: Produce
    post: Post
    seq: int
    stop: threading.Event = field(default_factory=threading.Event)
    llm: Any = None
    pieces: Iterator[str] | None = None
    #: the prompt's tokens and how many of them this job has evaluated itself
    prompt: list[int] = field(default_factory=list)
    evaluated: int = 0
    #: set (under the scheduler's lock) once the worker picked the job: from then on only
    #: the worker may drop it
    started: bool = False
    done: bool = False


class Scheduler:
    """Runs jobs on ``executor`` (one worker thread) one step at a time, most urgent first.

    ``context(name)`` returns the llama context of that name, loading it on first use; it is
    only called on the worker thread.
    """

    def __init__(self, executor: Executor, context: Callable[[str], Any]) -> None:
        self._executor = executor
        self._context = context
        self._lock = threading.Lock()
        self._jobs: list[Job] = []
        self._seq = itertools.count()
        self._drain: Future[None] | None = None
        self._closed = False
        #: pieces produced since the scheduler was created (tests and benchmarks read it)
        self.tokens_generated = 0

    # ------------------------------------------------------------ event loop side

    def submit(
        self, priority: Priority, produce: Produce, post: Post, stop: threading.Event
    ) -> Job:
        """Queue a job; setting ``stop`` cancels it (see :meth:`cancel`)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the model is closed")
            job = Job(priority, produce, post, next(self._seq), stop)
            self._jobs.append(job)
            if self._drain is None:
                self._drain = self._executor.submit(self._run)
        return job

    def cancel(self, job: Job) -> None:
        """Stop ``job``: at once when it never started, else before its next step."""
        job.stop.set()
        with self._lock:
            if job.started or job not in self._jobs:
                return
            self._jobs.remove(job)
            job.done = True

    def job_count(self) -> int:
        with self._lock:
            return len(self._jobs)

    def idle(self) -> Future[None] | None:
        """The worker's current run (done when it has no jobs left), if any."""
        return self._drain

    def close(self) -> None:
        with self._lock:
            self._closed = True
            jobs = list(self._jobs)
        for job in jobs:
            self.cancel(job)

    # ---------------------------------------------------------------- worker side

    def _run(self) -> None:
        current: Job | None = None
        while True:
            with self._lock:
                stopped = [j for j in self._jobs if j.stop.is_set()]
                for old in stopped:
                    self._jobs.remove(old)
                job = min(self._jobs, key=lambda j: (RANK[j.priority], j.seq), default=None)
                if job is None and not stopped:
                    self._drain = None
                    return
                if job is not None:
                    job.started = True
            for old in stopped:
                self._finish(old)
            if job is None:
                continue
            if job is not current:
                if current is not None and not current.done:
                    current.post("wait", None)
                job.post("run", None)
                current = job
            self._step(job)

    def _step(self, job: Job) -> None:
        if job.stop.is_set():
            return  # dropped before the next step
        try:
            if job.pieces is None:
                job.llm = self._context(CONTEXT_OF[job.priority])
                job.llm.last_prompt = None
                job.pieces = job.produce(job.llm)
                # In chunks: a chat gives way to a completion between two of them, and a
                # completion the user typed past is dropped between two of them.
                self._plan_prefill(job, job.llm)
            elif job.evaluated < len(job.prompt):
                chunk = job.prompt[job.evaluated : job.evaluated + PREFILL_CHUNK]
                job.llm.n_tokens = job.evaluated  # eval() drops the cache after this position
                job.llm.eval(chunk)
                job.evaluated += len(chunk)
            else:
                piece = next(job.pieces)
                self.tokens_generated += 1
                if not job.stop.is_set():
                    job.post("piece", piece)
        except StopIteration:
            self._remove(job)
            self._finish(job)
        except BaseException as exc:
            job.post("error", exc)
            self._remove(job)
            self._finish(job)

    def _plan_prefill(self, job: Job, llm: Any) -> None:
        """Evaluate the prompt in chunks before the first token, reusing the cached prefix.

        ``llm.last_prompt`` is what ``produce`` just passed to ``create_completion`` (it must
        call it before returning; the generation itself stays lazy). The chat template's
        token list is exact; a text prompt is tokenized as llama-cpp-python does.
        A mismatch only costs time: ``generate`` re-evaluates from the first differing token.
        """
        prompt = getattr(llm, "last_prompt", None)
        if isinstance(prompt, str):
            prompt = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        if not isinstance(prompt, list) or len(prompt) >= llm.n_ctx():
            return  # the library reports a prompt that does not fit
        if getattr(llm, "_is_recurrent", False) or getattr(llm, "_is_hybrid", False):
            return  # their state cannot be cut back to a prefix
        cached = 0
        for have, want in zip(llm.input_ids[: llm.n_tokens], prompt, strict=False):
            if have != want:
                break
            cached += 1
        if len(prompt) - cached <= PREFILL_CHUNK:
            return  # generate() evaluates the rest in one step anyway
        job.prompt = prompt
        job.evaluated = cached

    def _remove(self, job: Job) -> None:
        with self._lock:
            if job in self._jobs:
                self._jobs.remove(job)

    def _finish(self, job: Job) -> None:
        job.done = True
        close = getattr(job.pieces, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                log.exception("closing a local generation failed")
        job.pieces = job.llm = None
        job.post("end", None)
