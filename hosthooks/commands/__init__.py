"""The ``hosthooks`` command's parts: the group and its options
(:mod:`~hosthooks.commands.group`), then the commands grouped by who uses them.
Each command imports what it uses when it runs.

Exit codes: 0 ok, 1 a check (or a command) failed, 2 usage error.
"""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
