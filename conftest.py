"""Shared by the core's and the bundled plugins' tests: the fixtures of ``ecti.testing``.

A third-party plugin's test suite uses them the same way: ``pytest_plugins = ["ecti.testing", "ecti_twilio.testing"]``
in its root ``conftest.py``.
"""
pytest_plugins = ["ecti.testing", "ecti_twilio.testing"]
