"""The docs are true: every hook is documented, examples run, files match."""

import dataclasses
import inspect
import re
from pathlib import Path

import pytest

import skbert
from skbert import hookspecs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```$", re.M | re.S)


def blocks(path, language="python"):
    """(info, code) of each fenced block in `path` in `language`."""
    text = path.read_text(encoding="utf-8")
    return [(m[2].strip(), m[3]) for m in BLOCK.finditer(text) if m[1] == language]


def test_every_hook_and_spec_field_is_documented():
    reference = (DOCS / "hooks.md").read_text()
    hooks = [name for name in dir(hookspecs) if name.startswith("skbert_")]
    assert hooks
    for name in hooks:
        params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"### `{name}({params})`" in reference
    for spec in (skbert.EncoderSpec, skbert.HeadSpec):
        for field in dataclasses.fields(spec):
            assert f"`{field.name}`" in reference, (spec.__name__, field.name)
    for output in (skbert.EncoderOutputs, skbert.HeadOutput):
        for field in dataclasses.fields(output):
            assert f"`{field.name}`" in reference, (output.__name__, field.name)


def test_plugin_guide_shows_the_example_plugins_as_they_are():
    shown = [
        (info.removeprefix("file="), code)
        for language in ("python", "toml")
        for info, code in blocks(DOCS / "plugin-guide.md", language)
        if info.startswith("file=")
    ]
    plugin_files = sorted(ROOT.glob("plugins/*/*.py")) + sorted(
        ROOT.glob("plugins/*/pyproject.toml")
    )
    assert sorted(path for path, _ in shown) == sorted(
        str(p.relative_to(ROOT)) for p in plugin_files
    )
    for path, code in shown:
        assert code == (ROOT / path).read_text(), path


@pytest.mark.slow
@pytest.mark.parametrize(
    "page", ["README.md", "docs/user-guide.md", "docs/plugin-guide.md", "docs/hooks.md"]
)
def test_code_examples_run(page, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    runnable = [code for info, code in blocks(ROOT / page) if not info]
    assert runnable, f"{page} has no runnable example"
    namespace = {"__name__": "__docs__"}
    for code in runnable:
        exec(compile(code, page, "exec"), namespace)
