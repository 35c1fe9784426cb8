"""The one exception type the command line turns into a one-line message and exit status 2."""


class UserError(Exception):
    """Bad input from the user: a missing or wrong file, an unknown character, a bad option value.

    The message names what was wrong and what was expected; the CLI prints it on one line, no traceback.
    """
