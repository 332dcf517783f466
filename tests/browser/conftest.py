"""Fixtures shared by the browser tests."""
import pytest


@pytest.fixture
def demo(db, app_settings, engine):
    """The demo tenant exactly as `make run` seeds it."""
    from ecti.config import configure
    from ecti.demo import seed_demo

    class Ctx:  # what `ecti demo` hands the seed: the registry and its secret box
        registry = configure(dict(app_settings), engine=engine).registry
        secret_box = registry.secret_box

    logins = seed_demo(db, Ctx())
    db.commit()
    return {role: (email, password) for email, password, role in logins}
