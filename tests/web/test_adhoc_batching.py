"""Ad-hoc forecasts that arrive together are computed together, and equal the forecasts computed alone."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from wearoff.model.forecast import Forecast, forecast
from wearoff.web.errors import InvalidInputError
from wearoff.web.services import forecasts
from wearoff.web.services.forecasts import AdhocForecasts, adhoc_treatment


def _numbers(value: object) -> list[float]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    if isinstance(value, list | tuple):
        return [x for v in value for x in _numbers(v)]
    return [float(value)] if isinstance(value, int | float) and not isinstance(value, bool) else []


def assert_same_forecast(got: Forecast, expected: Forecast) -> None:
    """Equal up to the rounding of sums taken in another order (a batch pads its groups to one node count)."""
    assert got.treatment == expected.treatment
    np.testing.assert_allclose(_numbers(got.to_dict()), _numbers(expected.to_dict()), rtol=1e-9, atol=1e-12)


TREATMENTS = [
    adhoc_treatment("onabotulinumtoxinA", "glabellar", 20),
    adhoc_treatment("abobotulinumtoxinA", "glabellar", 50, sex="male"),
    adhoc_treatment("incobotulinumtoxinA", "lateral_canthal", 12, activity="high"),
    adhoc_treatment("daxibotulinumtoxinA", "glabellar", 40, prior_treatments=3),
    adhoc_treatment("onabotulinumtoxinA", "masseter", 25, baseline_severity=3),
]


def test_forecasts_asked_together_are_one_batch_equal_to_each_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    batches: list[int] = []
    real = forecasts.forecast_many

    def counting(treatments, *args, **kwargs):
        batches.append(len(treatments))
        return real(treatments, *args, **kwargs)

    monkeypatch.setattr(forecasts, "forecast_many", counting)

    async def ask() -> list:
        batcher = AdhocForecasts()
        together = await asyncio.gather(*(batcher.forecast(t) for t in TREATMENTS))
        alone = await batcher.forecast(TREATMENTS[0])
        return [*together, alone]

    results = asyncio.run(ask())
    assert batches == [len(TREATMENTS), 1]
    for t, f in zip([*TREATMENTS, TREATMENTS[0]], results, strict=True):
        assert_same_forecast(f, forecast(t))


def test_a_failing_batch_is_retried_one_by_one_so_only_the_culprit_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    culprit = TREATMENTS[2]
    real = forecasts.forecast

    def failing_batch(treatments, *args, **kwargs):
        raise ValueError("a batch went wrong")

    def failing_one(treatment, *args, **kwargs):
        if treatment == culprit:
            raise ValueError("units overflow")
        return real(treatment, *args, **kwargs)

    monkeypatch.setattr(forecasts, "forecast_many", failing_batch)
    monkeypatch.setattr(forecasts, "forecast", failing_one)

    async def ask() -> list:
        batcher = AdhocForecasts()
        return await asyncio.gather(*(batcher.forecast(t) for t in TREATMENTS), return_exceptions=True)

    results = asyncio.run(ask())
    for t, r in zip(TREATMENTS, results, strict=True):
        if t == culprit:
            assert isinstance(r, InvalidInputError)
            assert "cannot be forecast" in r.message and "units overflow" in r.message
        else:
            assert_same_forecast(r, real(t))


def test_bad_input_is_refused_before_it_is_queued() -> None:
    with pytest.raises(InvalidInputError) as refused:
        adhoc_treatment("onabotulinumtoxinA", "eyebrows", 20)
    assert "eyebrows" in refused.value.message


def test_a_queue_left_by_an_ended_event_loop_does_not_hold_up_the_next() -> None:
    batcher = AdhocForecasts()
    ended = asyncio.new_event_loop()
    waiting = ended.create_task(batcher.forecast(TREATMENTS[0]))
    ended.call_soon(ended.stop)  # the forecast is queued, and the loop ends before it computes
    ended.run_forever()
    assert not waiting.done()
    waiting.cancel()
    ended.close()

    async def ask():
        return await asyncio.wait_for(batcher.forecast(TREATMENTS[1]), timeout=30)

    assert_same_forecast(asyncio.run(ask()), forecast(TREATMENTS[1]))
