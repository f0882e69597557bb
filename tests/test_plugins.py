"""Plugin discovery on real entry points: built-ins, the example plugin, failures."""

import inspect
import os
import re
import sys
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


def test_cli_lists_plugins_with_distribution_and_version(capsys):
    from skbert.cli import main

    main(["plugins"])
    out = capsys.readouterr().out
    assert re.search(r"checkpoints\s+skbert-checkpoints\s+0\.1\.0\s+loaded", out)
    main(["heads"])
    assert re.search(r"cnn\s.*cnn_head", capsys.readouterr().out)
    main(["encoders"])
    assert LOCAL_CHECKPOINT in capsys.readouterr().out


LISTINGS_WITHOUT_TF = """
import sys
from skbert.cli import main
for command in (["encoders"], ["heads"], ["plugins"], ["--help"]):
    try:
        main(command)
    except SystemExit as exit:
        assert exit.code == 0, (command, exit.code)
print("imported:", sorted(m for m in ("tensorflow", "tf_keras") if m in sys.modules))
"""


def test_listing_plugins_imports_no_tensorflow():
    out = run_python(LISTINGS_WITHOUT_TF).stdout
    assert out.splitlines()[-1] == "imported: []"
    assert "cnn" in out and LOCAL_CHECKPOINT in out and "usage: skbert" in out


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


def test_broken_duplicate_and_blocked_plugins(tmp_path, monkeypatch, request):
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
    before = skbert.list_plugins()  # the process-wide registry, loaded already
    # A registry of its own, loaded as skbert loads its one: on first lookup.
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("SKBERT_BLOCK_PLUGINS", "blocked, other")
    fakes = ("skbert_broken", "skbert_dupe", "skbert_blocked", "skbert_raises")
    request.addfinalizer(lambda: [sys.modules.pop(m, None) for m in fakes])
    registry = skbert.plugins._Registry()
    with pytest.warns(skbert.PluginWarning) as caught:
        registry.ensure_loaded()
    status = {p.name: p.status for p in registry.plugins}
    assert status["broken"] == status["raises"] == "failed"
    assert (status["blocked"], status["cnn_head"], status["dupe"]) == (
        "blocked",
        "loaded",
        "loaded",
    )
    assert registry.heads["softmax"].source == "skbert.default_plugins.heads"
    assert registry.heads["dupe_extra"].source == "dupe"
    assert "skbert_blocked" not in sys.modules  # blocked: never imported
    messages = [str(w.message) for w in caught]
    assert "skbert plugin 'broken' (skbert-broken 1.0) is skipped" in messages[0]
    assert "no numpy 9" in messages[0]
    assert any("cannot reach my model registry" in m for m in messages)
    assert any(
        "registers HeadSpec 'softmax', already registered by" in m for m in messages
    )
    assert skbert.list_plugins() == before  # and left as it was


def test_every_hook_is_typed_and_documented():
    hooks = [n for n in dir(hookspecs) if n.startswith("skbert_")]
    assert hooks == ["skbert_register_encoders", "skbert_register_heads"]
    for name in hooks:
        func = getattr(hookspecs, name)
        assert "Parameters" in func.__doc__ and "register" in func.__doc__
        assert (
            inspect.signature(func).parameters["register"].annotation != inspect._empty
        )
