"""Planning from clinic records: personal forecasts per patient and area, re-booking windows, safety guards."""
