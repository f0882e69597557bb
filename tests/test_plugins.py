"""Plugin discovery on real entry points: built-ins, the example plugin, failures."""

import inspect
import os
import re
import textwrap
from pathlib import Path

import pytest

import skbert
from conftest import LOCAL_CHECKPOINT, TINY, run_python, tiny_classifier
from skbert import BertClassifier, hookspecs


def test_builtin_plugins_register_presets_and_heads():
    encoders = {s.name: s for s in skbert.list_encoders()}
    assert encoders["bert_base_en_uncased"].encoder.endswith(
        "bert_en_uncased_L-12_H-768_A-12/4"
    )
    assert encoders["bert_base_en_uncased"].preprocessor.endswith(
        "bert_en_uncased_preprocess/3"
    )
    assert not encoders["bert_base_en_cased"].lower_case
    assert encoders[TINY].source == "skbert.default_plugins.tiny_random"
    heads = {h.name: h for h in skbert.list_heads()}
    assert heads["sigmoid"].tasks == ("binary",)
    assert heads["linear"].tasks == ("regression",)
    assert heads["mlp"].tasks == heads["sequence"].tasks == skbert.specs.TASKS
    assert heads["softmax"].source == "skbert.default_plugins.heads"
    assert heads["mlp"].params() == {
        "hidden_units": (256,),
        "activation": "gelu",
        "dropout": 0.1,
    }
    loaded = {p.name: p for p in skbert.list_plugins()}
    for name in skbert.plugins.DEFAULT_PLUGINS:
        assert loaded[name].status == "loaded"


def test_example_plugins_are_found_through_their_entry_points():
    plugins = {p.name: p for p in skbert.list_plugins()}
    assert (plugins["cnn_head"].distribution, plugins["cnn_head"].status) == (
        "skbert-cnn-head",
        "loaded",
    )
    assert plugins["checkpoints"].distribution == "skbert-checkpoints"
    assert plugins["checkpoints"].version == "0.1.0"
    assert skbert.get_head("cnn").source == "cnn_head"
    spec = skbert.get_encoder(LOCAL_CHECKPOINT)
    assert (spec.source, spec.hidden_size) == ("checkpoints", 16)
    assert "pooler pooling" in spec.description


def test_example_head_plugin_trains_by_name_with_its_options(toy):
    X, y, X_test, y_test = toy
    clf = tiny_classifier(head="cnn", head__kernel_sizes=(2, 3)).fit(X, y)
    names = [layer.name for layer in clf.model_.get_layer("head").layers]
    assert "cnn_conv_3" in names and "cnn_conv_4" not in names
    assert clf.score(X_test, y_test) > 0.9


def test_example_encoder_plugin_converts_its_checkpoint_and_fits(toy):
    X, y, X_test, y_test = toy
    clf = BertClassifier(
        LOCAL_CHECKPOINT,
        "sequence",  # attention over the letters' vectors: the checkpoint is random
        epochs=6,
        batch_size=8,
        learning_rate=3e-3,
        max_seq_length=32,
        random_state=0,
    ).fit(X, y)
    assert clf.score(X_test, y_test) > 0.9
    spec = skbert.get_encoder(LOCAL_CHECKPOINT)
    home = Path(os.environ["SKBERT_HOME"]) / "encoders"
    assert (home / f"{LOCAL_CHECKPOINT}@{spec.revision}" / ".complete").exists()


def test_cli_lists_plugins_with_distribution_and_version():
    out = run_python("from skbert.cli import main; main(['plugins'])").stdout
    assert re.search(r"checkpoints\s+skbert-checkpoints\s+0\.1\.0\s+loaded", out)
    heads = run_python("from skbert.cli import main; main(['heads'])").stdout
    assert re.search(r"cnn\s.*cnn_head", heads)
    encoders = run_python("from skbert.cli import main; main(['encoders'])").stdout
    assert LOCAL_CHECKPOINT in encoders


def test_unknown_names_list_the_known_ones():
    with pytest.raises(
        ValueError, match="Registered encoders: .*tiny_random_en_uncased"
    ):
        skbert.get_encoder("no_such_bert")
    with pytest.raises(ValueError, match="Registered heads: .*sigmoid"):
        skbert.get_head("no_such_head")


def _fake_distribution(root, name, module_source, entry_points):
    """Lay out an installed distribution (module + dist-info) under `root`."""
    module = name.replace("-", "_")
    (root / f"{module}.py").write_text(textwrap.dedent(module_source))
    info = root / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[skbert]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    )


LIST_AFTER_LOAD = """
import warnings, skbert
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    plugins = {p.name: p.status for p in skbert.list_plugins()}
    heads = {h.name: h.source for h in skbert.list_heads()}
print(plugins)
print(heads)
for w in caught:
    print("WARNING", w.category.__name__, w.message)
"""


def test_broken_duplicate_and_blocked_plugins(tmp_path):
    _fake_distribution(
        tmp_path,
        "skbert-broken",
        "raise ImportError('no numpy 9')",
        {"broken": "skbert_broken"},
    )
    _fake_distribution(
        tmp_path,
        "skbert-dupe",
        """
        import skbert
        from skbert.default_plugins.heads import softmax_head
        @skbert.hookimpl
        def skbert_register_heads(register):
            register(skbert.HeadSpec("softmax", "impostor", softmax_head))
            register(skbert.HeadSpec("dupe_extra", "fine", softmax_head))
        """,
        {"dupe": "skbert_dupe"},
    )
    _fake_distribution(
        tmp_path,
        "skbert-blocked",
        "raise SystemExit('imported!')",
        {"blocked": "skbert_blocked"},
    )
    _fake_distribution(
        tmp_path,
        "skbert-raises",
        """
        import skbert
        @skbert.hookimpl
        def skbert_register_encoders(register):
            raise RuntimeError("cannot reach my model registry")
        """,
        {"raises": "skbert_raises"},
    )
    out = run_python(
        LIST_AFTER_LOAD,
        env={"PYTHONPATH": str(tmp_path), "SKBERT_BLOCK_PLUGINS": "blocked, other"},
    ).stdout
    assert "'broken': 'failed'" in out and "'blocked': 'blocked'" in out
    assert "'raises': 'failed'" in out and "'cnn_head': 'loaded'" in out
    assert "'softmax': 'skbert.default_plugins.heads'" in out
    assert "'dupe_extra': 'dupe'" in out
    assert "PluginWarning skbert plugin 'broken' (skbert-broken 1.0) is skipped" in out
    assert "no numpy 9" in out and "cannot reach my model registry" in out
    assert "registers HeadSpec 'softmax', already registered by" in out
    assert "imported!" not in out


def test_every_hook_is_typed_and_documented():
    hooks = [n for n in dir(hookspecs) if n.startswith("skbert_")]
    assert hooks == ["skbert_register_encoders", "skbert_register_heads"]
    for name in hooks:
        func = getattr(hookspecs, name)
        assert "Parameters" in func.__doc__ and "register" in func.__doc__
        assert (
            inspect.signature(func).parameters["register"].annotation != inspect._empty
        )
