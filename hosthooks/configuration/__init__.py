"""Configuration: every key, where its value came from, and plugins' typed settings.

``keys`` names every key and runtime setting and how a value is read; ``files``
finds and reads the configuration file and builds the one object that knows
every value and its source; ``typed_settings`` declares and validates a plugin's
own settings. It may import the leaves; never the call engine's callers, plugin
loading, the Host, the runtime, ``deferred/``, Django or the CLI.
"""
