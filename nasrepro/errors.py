"""User-facing errors.

Every error a user can cause (bad config, unknown name, malformed arch, missing data, NaN loss)
is a :class:`NasreproError` whose message is one line naming the problem *and* the fix. The CLI
prints ``error: <message>`` and exits non-zero; it never prints a traceback for these.
"""


class NasreproError(Exception):
    """Base class: the message is one line saying what is wrong and how to fix it."""


class ConfigError(NasreproError):
    """Invalid configuration key or value, or unknown profile."""


class UnknownNameError(NasreproError):
    """Unknown method, space, preset or other registered name."""


class ArchError(NasreproError):
    """Malformed architecture (wrong keys, lengths or values)."""


class DataError(NasreproError):
    """Missing or corrupt dataset."""


class TrainingError(NasreproError):
    """Training diverged (NaN/inf loss) or a checkpoint cannot be used."""


class OutputError(NasreproError):
    """A result file cannot be written (unwritable folder, a directory in the way)."""


class MissingInputError(DataError):
    """An input of a step is missing: the message names it and the rule that makes it."""
