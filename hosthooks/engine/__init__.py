"""The call engine: what a hook call runs.

Live callers (``host.hook.<name>``), the generated call plans (sync, async,
sender dispatch), robust calls, ordering by plugin name (``before=``/``after=``),
sender filtering, muting and tracing. It knows pluggy, :mod:`hosthooks.markers`
and :mod:`hosthooks.specs`, and nothing above it: never plugin loading, the Host,
the runtime, ``deferred/``, Django or the CLI (the import contracts in
``pyproject.toml`` check this). Kept free of imports so that importing a wing
costs nothing.
"""
