"""A clinic's own outcomes: interval-censored wear-off durations from its records, and the report on them."""

from wearoff.analytics.durations import COLUMNS, Durations, treatment_durations, wear_off_interval

__all__ = ["COLUMNS", "Durations", "treatment_durations", "wear_off_interval"]
