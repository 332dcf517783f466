"""Every hook spec is documented in docs/plugins.md and exercised by a test."""
import ast
import functools
import inspect
from pathlib import Path

import pytest

from ecti import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(name for name, obj in vars(hookspecs).items() if name.startswith("ecti_") and callable(obj))


def test_there_are_hooks():
    assert len(HOOKS) >= 10


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented_with_its_exact_signature(name):
    docs = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    signature = f"{name}{inspect.signature(getattr(hookspecs, name))}"
    assert f"### `{signature}`" in docs, f"docs/plugins.md has no section headed ### `{signature}`"
    section = docs.split(f"### `{signature}`", 1)[1].split("\n### ", 1)[0]
    assert "@hookimpl" in section, f"the section on {name} has no example"


@functools.cache
def hooks_with_a_test() -> frozenset[str]:
    """The hooks a test named test_hook_* names (in its name or its parameters); the test files
    are parsed once for all hooks."""
    covered = set()
    for path in list((ROOT / "tests").rglob("test_*.py")) + list((ROOT / "plugins").glob("*/tests/**/test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_hook_"):
                covered.update(h for h in HOOKS if h in node.name)
                for deco in node.decorator_list:
                    covered.update(c.value for c in ast.walk(deco) if isinstance(c, ast.Constant) and c.value in HOOKS)
    return frozenset(covered)


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_a_test(name):
    assert name in hooks_with_a_test(), f"no test_hook_* test exercises {name}"
