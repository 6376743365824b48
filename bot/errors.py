"""The root of Pigeon's own errors: their messages are one line, fit for an operator."""


class PigeonError(Exception):
    """A problem the operator can fix (a setting, the database, a data file)."""
