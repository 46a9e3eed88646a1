"""Pydantic schemas of the REST API: ``*Create`` for what a client sends, ``*Public`` for what it gets back."""
