"""User-facing errors: one clear message, no traceback."""


class SimInputError(Exception):
    """Bad input from the user (scenario, file, parameter): the message says what and where."""


class WorkerLostError(Exception):
    """A worker process died (killed, out of memory) twice: the message names the task."""
