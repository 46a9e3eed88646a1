"""Fitting the model: to published arms (calibration), and later to clinic records and one patient's history."""
