"""Synthetic clinics drawn from the model: records with known truth, to test forecasts against."""
