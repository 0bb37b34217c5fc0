"""The one exception the loaders raise: its message says what went wrong and what to do."""


class DataError(RuntimeError):
    """A data set is missing, corrupt or malformed."""
