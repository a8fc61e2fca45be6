"""Where plugins come from, and what the host records of each.

Installed distributions' entry points read without importlib.metadata
(``installed``), the plugin records, statuses and problems and the host's
loading configuration (``records``), the loading itself: built-ins, entry points,
directories, the allow-list and compatibility (``loader``), the diagnosis of a
loaded plugin (``problems``), the built-in plugins (``builtins``) and pip
install/uninstall (``installer``). It may import the call engine, configuration
and the leaves; never the Host, the runtime, ``deferred/``, Django or the CLI.
"""
