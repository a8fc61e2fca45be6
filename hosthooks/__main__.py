"""``python -m hosthooks``: the same as the ``hosthooks`` command."""

from hosthooks.cli import main

main()
