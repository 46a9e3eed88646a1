"""Personal forecasts: the patient's own scores move the forecast, and no history means the population's."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wearoff.model.forecast import forecast
from wearoff.model.personal import Episode, Observation, PatientPosterior, patient_posterior
from wearoff.model.treatment import Treatment

GLABELLA = Treatment("onabotulinumtoxinA", "glabellar", 20, baseline_severity=3)


def _episode(worn_off_by: float, still_on: float) -> Episode:
    """A treatment whose scores show effect until ``still_on`` and baseline by ``worn_off_by``."""
    return Episode(GLABELLA, (Observation(14, 0), Observation(still_on, 1), Observation(worn_off_by, 3)))


def test_no_history_is_the_population_forecast(params) -> None:
    assert forecast(GLABELLA, params, history=[]) == forecast(GLABELLA, params)
    prior = PatientPosterior.prior()
    assert np.isclose(prior.weights.sum(), 1.0) and prior.mean_duration_effect() == pytest.approx(0.0, abs=1e-12)


def test_short_history_shortens_and_long_history_lengthens(params) -> None:
    population = forecast(GLABELLA, params).wear_off_day
    short = forecast(GLABELLA, params, history=[_episode(80, 50), _episode(84, 56)]).wear_off_day
    long = forecast(GLABELLA, params, history=[_episode(220, 170), _episode(230, 180)]).wear_off_day
    assert short.median < population.median < long.median
    # what the patient showed narrows the interval
    assert (short.upper90 - short.lower90) < (population.upper90 - population.lower90)


def test_more_evidence_moves_the_forecast_further(params) -> None:
    one = patient_posterior(params, [_episode(80, 50)]).mean_duration_effect()
    three = patient_posterior(params, [_episode(80, 50)] * 3).mean_duration_effect()
    assert three < one < 0


def test_a_patient_with_no_response_has_low_sensitivity(params) -> None:
    none = Episode(GLABELLA, (Observation(14, 3), Observation(30, 3)))
    post = patient_posterior(params, [none])
    sensitivity = post.mean_effect()
    assert sensitivity < -0.5
    assert forecast(GLABELLA, params, history=[none]).response_share < forecast(GLABELLA, params).response_share


def test_patient_ratings_count_less_than_clinician_ratings(params) -> None:
    by_clinician = Episode(GLABELLA, (Observation(14, 0), Observation(60, 3)))
    by_patient = Episode(GLABELLA, (Observation(14, 0, "patient"), Observation(60, 3, "patient")))
    clinician = patient_posterior(params, [by_clinician]).mean_duration_effect()
    patient = patient_posterior(params, [by_patient]).mean_duration_effect()
    assert clinician < patient < 0  # patients are noisier and more optimistic raters: weaker evidence


@pytest.mark.parametrize(("obs", "message"), [(Observation(14, 5), "severity"), (Observation(14, 1, "nurse"), "rater")])
def test_bad_observations_are_refused(params, obs, message) -> None:
    with pytest.raises(ValueError, match=message):
        patient_posterior(params, [Episode(GLABELLA, (obs,))])


def test_the_treatments_own_scores_move_its_forecast(params) -> None:
    """Scores after the forecast treatment tell about that treatment itself, beyond the patient's effects."""
    worn_off = Episode(GLABELLA, (Observation(14, 0), Observation(55, 3)))
    lasting = Episode(GLABELLA, (Observation(14, 0), Observation(150, 0)))
    none = forecast(GLABELLA, params).wear_off_day
    early = forecast(GLABELLA, params, history=[worn_off], current=worn_off).wear_off_day
    late = forecast(GLABELLA, params, history=[lasting], current=lasting).wear_off_day
    # back at baseline by day 55: the median well before the population's, yet after day 55 (a rater who sees no
    # lines may leave up to half a grade of improvement, the wear-off's threshold, unseen); none/mild at day 150:
    # later than day 150 and than the population's
    assert 55 < early.median < 0.65 * none.median
    assert late.median > max(150.0, none.median)
    # the same scores read as an earlier treatment move the forecast less than as this treatment's own
    earlier_only = forecast(GLABELLA, params, history=[worn_off]).wear_off_day
    assert early.median < earlier_only.median < none.median


def test_tabulated_score_probabilities_match_the_rater_model(params) -> None:
    """The interpolated tables of the posterior's hot loop agree with the exact rater model on the log scale."""
    from wearoff.model.cohort import RATERS, shared_fields
    from wearoff.model.personal import _interpolate_rows, _severity_probability, log_score_table

    fields = shared_fields(params)
    optimism = tuple(fields["rater_optimism"][r] for r in RATERS)
    sd = tuple(fields["rater_sd"][r] for r in RATERS)
    improvement = np.random.default_rng(0).uniform(-0.5, 3.5, 20_000)
    for baseline in (1.0, 2.0, 3.0):
        table = log_score_table(baseline, optimism, sd)
        for r, rater in enumerate(RATERS):
            for severity in range(4):
                approx = _interpolate_rows(table, np.full(improvement.size, r * 4 + severity), improvement)
                exact = np.log(
                    _severity_probability(
                        improvement[:, None],
                        baseline,
                        np.full(improvement.size, severity),
                        np.full(improvement.size, optimism[r]),
                        np.full(improvement.size, sd[r]),
                    )
                )[:, 0]
                meaningful = exact > np.log(1e-11)
                assert meaningful.mean() > 0.1, (baseline, rater, severity)
                assert np.abs(approx - exact)[meaningful].max() < 5e-5, (baseline, rater, severity)


def test_the_posterior_follows_a_patient_whose_scores_pin_them_down(params) -> None:
    """Twelve treatments, each scored at its peak and twice after: the posterior is far narrower than the prior,
    and the adapted rule finds the moments a dense grid gives (a fixed grid of 16 x 16 nodes misses them)."""
    from wearoff.model.personal import ScoredEpisodes, episode_log_likelihoods

    rng = np.random.default_rng(3)
    history = [
        Episode(
            GLABELLA,
            (
                Observation(14, int(rng.choice([0, 1]))),
                Observation(70, int(rng.choice([1, 2]))),
                Observation(110, int(rng.choice([2, 3])), "patient"),
            ),
        )
        for _ in range(12)
    ]
    post = patient_posterior(params, history)
    data = ScoredEpisodes.of(params, history, None)
    k = len(history)

    def grid_moments(axes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        z = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 2)
        tiled = [np.tile(z[:, d], (k, 1)) for d in range(2)]
        log_post = episode_log_likelihoods(params, data, np.arange(k), *tiled).sum(axis=0) - 0.5 * np.sum(z * z, 1)
        w = np.exp(log_post - log_post.max())
        w /= w.sum()
        mean = w @ z
        return mean, np.sqrt(w @ (z - mean) ** 2)

    # a coarse grid finds the posterior, a fine one over six of its sds on either side measures it (a posterior
    # this narrow has features a spacing of 0.03 still blurs)
    coarse_mean, coarse_sd = grid_moments([np.linspace(-4, 4, 241)] * 2)
    dense_mean, dense_sd = grid_moments(
        [np.linspace(m - 6 * s, m + 6 * s, 401) for m, s in zip(coarse_mean, coarse_sd, strict=True)]
    )
    assert dense_sd[0] < 0.3  # pinned down: a third of the spacing of 16 prior nodes near the centre (0.7)
    assert post.mean_effect() == pytest.approx(dense_mean[0], abs=0.02)
    assert post.mean_duration_effect() == pytest.approx(dense_mean[1], abs=0.02)
    sd_effect = math.sqrt(np.sum(post.weights * (post.z_effect - post.mean_effect()) ** 2))
    assert sd_effect == pytest.approx(dense_sd[0], rel=0.05)
