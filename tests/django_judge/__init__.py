"""Django's own test suite as a judge of the bridge: a ``--settings`` module for
its ``runtests.py``, a control receiver, a recording plugin and the test runner
that reports outcomes and compares what the two heard (see
``tests/test_django_suite.py``)."""
