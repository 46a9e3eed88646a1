"""Errors of the inference layer, importable without its numerical dependencies (the command line catches them)."""


class EvidenceError(ValueError):
    """The arms file is malformed: the message names the file, line and column."""
