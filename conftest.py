"""Shared by the core's and the bundled plugins' tests: the fixtures of ``ecti.testing``.

A third-party plugin's test suite uses them the same way: ``pytest_plugins = ["ecti.testing", "ecti_twilio.testing"]``
in its root ``conftest.py``. The rules below are the core repository's own, not the test kit's:
a plugin's suite that uses the ``api`` fixture is not asked to exercise the core's whole API.
"""
import pytest

pytest_plugins = ["ecti.testing", "ecti_twilio.testing"]


def pytest_sessionfinish(session, exitstatus):
    """Fail a complete, otherwise green run in which some API operation was never exercised
    through the ``api`` fixture. Under pytest-xdist each worker hands what it saw to the
    controller (:func:`pytest_testnodedown`), which decides."""
    from ecti import testing

    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["ecti_api"] = {"seen": sorted(testing.API_SEEN), "documented": sorted(testing.API_DOCUMENTED)}
        return
    whole_suite = session.config.args_source == pytest.Config.ArgsSource.TESTPATHS
    selected = session.config.option.keyword or session.config.option.markexpr
    if exitstatus != 0 or not whole_suite or selected or not testing.API_DOCUMENTED:
        return
    missing = sorted(testing.API_DOCUMENTED - testing.API_SEEN)
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_line("API operations no test exercised through the `api` fixture:", red=True)
        for method, path in missing:
            reporter.write_line(f"  {method} {path}", red=True)
        session.exitstatus = 1


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """(pytest-xdist, in the controller) a worker finished: add the operations it saw."""
    from ecti import testing

    found = getattr(node, "workeroutput", {}).get("ecti_api")
    if found:
        testing.API_SEEN.update(tuple(op) for op in found["seen"])
        testing.API_DOCUMENTED.update(tuple(op) for op in found["documented"])
