"""Debouncing and supersession with real asyncio (short delays; outcomes, not timings)."""

from __future__ import annotations

import asyncio

import pytest

from quill.completion.debounce import AdaptiveDebouncer, RequestSupervisor


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_newer_request_supersedes_a_waiting_one() -> None:
    debouncer = AdaptiveDebouncer(min_ms=20, max_ms=30, default_ms=30)
    first = asyncio.create_task(debouncer.wait("doc", at_line_start=False))
    await asyncio.sleep(0.005)
    second = asyncio.create_task(debouncer.wait("doc", at_line_start=False))
    assert await first is False
    assert await second is True
    assert (debouncer.superseded, debouncer.passed) == (1, 1)


async def test_documents_do_not_supersede_each_other() -> None:
    debouncer = AdaptiveDebouncer(min_ms=5, max_ms=20, default_ms=20)
    results = await asyncio.gather(
        debouncer.wait("a", at_line_start=False), debouncer.wait("b", at_line_start=False)
    )
    assert results == [True, True]


async def test_line_start_takes_the_fast_path() -> None:
    debouncer = AdaptiveDebouncer(min_ms=5, max_ms=5000, default_ms=5000, line_start_ms=0)
    assert debouncer.delay_ms(at_line_start=True) == 0
    # With the default delay this would take five seconds; the test would time out.
    assert await asyncio.wait_for(debouncer.wait("doc", at_line_start=True), 1.0) is True


async def test_forget_supersedes_a_pending_wait() -> None:
    debouncer = AdaptiveDebouncer(min_ms=20, max_ms=30, default_ms=30)
    waiting = asyncio.create_task(debouncer.wait("doc", at_line_start=False))
    await asyncio.sleep(0)
    debouncer.forget("doc")
    assert await waiting is False


def test_delay_follows_the_typing_speed() -> None:
    clock = FakeClock()
    debouncer = AdaptiveDebouncer(min_ms=20, max_ms=400, default_ms=111, factor=1.5, clock=clock)
    assert debouncer.delay_ms() == 111
    for _ in range(6):
        debouncer.record("doc")
        clock.now += 0.100  # a key every 100 ms
    assert debouncer.delay_ms() == pytest.approx(150)
    for _ in range(20):
        debouncer.record("doc")
        clock.now += 0.040  # faster now
    assert debouncer.delay_ms() == pytest.approx(60)


@pytest.mark.parametrize(("interval_s", "expected_ms"), [(0.001, 20), (0.9, 400)])
def test_delay_is_clamped(interval_s: float, expected_ms: float) -> None:
    clock = FakeClock()
    debouncer = AdaptiveDebouncer(min_ms=20, max_ms=400, clock=clock)
    for _ in range(5):
        debouncer.record("doc")
        clock.now += interval_s
    assert debouncer.delay_ms() == pytest.approx(expected_ms)


def test_long_pauses_are_not_typing() -> None:
    clock = FakeClock()
    debouncer = AdaptiveDebouncer(default_ms=100, max_gap_ms=1000, clock=clock)
    debouncer.record("doc")
    clock.now += 30.0
    debouncer.record("doc")
    assert debouncer.delay_ms() == 100


def test_bad_bounds_are_rejected() -> None:
    with pytest.raises(ValueError):
        AdaptiveDebouncer(min_ms=50, max_ms=10)


async def _model_request(supervisor: RequestSupervisor, started: asyncio.Event) -> str:
    supervisor.mark_model_called()
    started.set()
    await asyncio.sleep(10)
    return "never"


async def test_supervisor_cancels_the_previous_request_of_a_document() -> None:
    supervisor = RequestSupervisor()
    started = asyncio.Event()
    first = supervisor.start("doc", _model_request(supervisor, started))
    await started.wait()
    other = supervisor.start("other-doc", asyncio.sleep(0.005, result="other"))

    async def quick() -> str:
        await asyncio.sleep(0.005)
        return "second"

    second = supervisor.start("doc", quick())
    with pytest.raises(asyncio.CancelledError):
        await first
    assert first.cancelled()
    assert await second == "second"
    assert await other == "other"
    stats = supervisor.stats()
    assert stats.started == 3
    assert stats.superseded == 1
    assert stats.model_calls == 1
    assert stats.superseded_after_model_call == 1
    assert stats.superseded_model_call_share == pytest.approx(1.0)
    await asyncio.sleep(0)
    assert stats.finished <= supervisor.stats().finished == 3


async def test_superseded_before_the_model_is_not_wasted_work() -> None:
    supervisor = RequestSupervisor()

    async def debounced(result: str) -> str:
        await asyncio.sleep(0.02)
        supervisor.mark_model_called()
        return result

    first = supervisor.start("doc", debounced("first"))
    await asyncio.sleep(0)
    second = supervisor.start("doc", debounced("second"))
    assert await second == "second"
    assert first.cancelled()
    stats = supervisor.stats()
    assert stats.superseded == 1
    assert stats.model_calls == 1
    assert stats.superseded_after_model_call == 0
    assert stats.superseded_model_call_share == 0.0


async def test_mark_by_document_outside_the_task() -> None:
    supervisor = RequestSupervisor()
    task = supervisor.start("doc", asyncio.sleep(0.01))
    supervisor.mark_model_called("doc")
    supervisor.mark_model_called("doc")  # counted once
    await task
    assert supervisor.stats().model_calls == 1


async def test_is_current_inside_the_task() -> None:
    supervisor = RequestSupervisor()

    async def check() -> bool:
        await asyncio.sleep(0)
        return supervisor.is_current("doc")

    assert await supervisor.start("doc", check()) is True
    assert supervisor.running("doc") is None


async def test_a_failing_request_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    supervisor = RequestSupervisor()

    async def boom() -> None:
        raise RuntimeError("model exploded")

    task = supervisor.start("doc", boom())
    with pytest.raises(RuntimeError):
        await task
    await asyncio.sleep(0)
    assert "completion request for doc failed" in caplog.text


async def test_shutdown_cancels_everything() -> None:
    supervisor = RequestSupervisor()
    tasks = [supervisor.start(f"doc{i}", asyncio.sleep(10)) for i in range(3)]
    await asyncio.wait_for(supervisor.shutdown(), 1.0)
    assert all(task.cancelled() for task in tasks)
    assert supervisor.cancel("doc0") is False
