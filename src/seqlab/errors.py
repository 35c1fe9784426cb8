"""The exception types the command line turns into a one-line message: UserError (exit status 2) and
Diverged (exit status 3)."""


class UserError(Exception):
    """Bad input from the user: a missing or wrong file, an unknown character, a bad option value.

    The message names what was wrong and what was expected; the CLI prints it on one line, no traceback.
    """

    exit_status = 2


class Diverged(UserError):
    """A training run whose loss or gradient became NaN or infinite: stopped before the bad update, nothing
    non-finite written. The message names the step and what to try; the CLI exits with status 3."""

    exit_status = 3
