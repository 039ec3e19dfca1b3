"""Domain errors. The core raises these; the CLI and web UI turn them into messages."""


class DocchatError(Exception):
    """Base class: the message is meant for the user and says what to do."""


class ConfigError(DocchatError):
    """A setting is invalid; raised at start-up, before any work is done."""


class LoadError(DocchatError):
    """One file could not be turned into text. The batch goes on; the report names it."""

    def __init__(self, path: str, reason: str, detail: str = "") -> None:
        """`reason`: a sentence for people (what is wrong, what to do); `detail`: the
        library's own words (exception type and message), for the log and --json."""
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.detail = detail


class ModelError(DocchatError):
    """A model could not be found or loaded."""


class StoreError(DocchatError):
    """The index could not be opened, read or written."""


class IngestBusyError(DocchatError):
    """Another run holds the collection's writer lock."""
