"""What plugin authors use: the hook reference (``hosthooks docs``), the plugin
scaffold (``hosthooks new-plugin``), the pytest plugin and its fixtures, and the
recording of hook calls for tests. It stands on the Host and may reach the
runtime (the ``hosthooks_db`` and ``hosthooks_client`` fixtures); never the CLI's
commands, ``deferred/`` or Django.
"""
