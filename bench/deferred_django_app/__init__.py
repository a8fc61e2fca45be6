"""The model bench.deferred_django saves under Django."""
