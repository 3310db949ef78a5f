"""The errors woodflow_torch raises for what a user gave it: each one's message is the one line the command prints,
``woodflow_torch: error: REASON``, naming the file and what to do."""

PREFIX = "woodflow_torch: error: "


class Error(Exception):
    """A refusal with a reason a user can act on; ``str(e)`` is the whole line, ``e.reason`` the part after the
    prefix."""

    def __init__(self, reason):
        super().__init__(PREFIX + reason)
        self.reason = reason


class CheckpointError(Error, ValueError):
    """A file that is not an intact woodflow checkpoint: missing, empty, truncated, damaged, or of another kind."""


class DataError(Error, ValueError):
    """An image file (IDX) that cannot be read."""


class UnsupportedModelError(Error, NotImplementedError):
    """A checkpoint whose model has a layer woodflow_torch does not implement."""
