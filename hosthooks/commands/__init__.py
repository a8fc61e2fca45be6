"""Commands of the ``hosthooks`` CLI that need no host, grouped by who uses them;
``hosthooks.cli`` adds them to its group. Each imports what it uses when it runs."""
