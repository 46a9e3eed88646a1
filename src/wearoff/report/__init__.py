"""Reports of the model: the HTML validation report and its figures."""
