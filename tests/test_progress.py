"""Progress on long steps, plots of an evaluation, and a quiet command line."""

import pytest

from conftest import TINY, run_python, tiny_classifier


@pytest.fixture
def eager_progress(monkeypatch):
    import skbert.progress

    monkeypatch.setattr(skbert.progress, "DELAY", 0.0)
    monkeypatch.setattr(skbert.progress, "INTERVAL", 0.0)


def test_verbose_reports_encoding_and_zero_is_silent(toy, eager_progress, capsys):
    X, y, X_test, _ = toy
    clf = tiny_classifier(train_encoder=False, epochs=1, verbose=2).fit(X, y)
    clf.predict(X_test)
    err = capsys.readouterr().err
    assert f"encoding texts for training: {len(X)}/{len(X)}" in err
    assert f"encoding texts: {len(X_test)}/{len(X_test)}" in err
    clf.set_params(verbose=0).predict(X_test)
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_building_an_encoder_says_so(tmp_path, monkeypatch, capsys):
    from skbert import BertVectorizer

    monkeypatch.setenv("SKBERT_HOME", str(tmp_path))
    BertVectorizer(TINY, verbose=1).fit(["a text"])
    err = capsys.readouterr().err
    assert f"building encoder {TINY}" in err and f"built {TINY} in" in err
    BertVectorizer(TINY, verbose=1).fit(["a text"])  # cached now
    assert "building" not in capsys.readouterr().err


def test_evaluate_writes_the_plots(fitted, toy, tmp_path, capsys):
    import matplotlib.image

    from skbert.cli import main

    _, _, X_test, y_test = toy
    fitted.save(tmp_path / "model")
    data = tmp_path / "test.tsv"
    data.write_text(
        "text\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in zip(X_test, y_test))
    )
    plots = tmp_path / "plots"
    main(
        [
            "evaluate",
            str(data),
            "--model",
            str(tmp_path / "model"),
            "--plots",
            str(plots),
        ]
    )
    assert "confusion_matrix.png" in capsys.readouterr().out
    for name in ("confusion_matrix.png", "training_curve.png"):
        image = matplotlib.image.imread(plots / name)
        assert image.shape[0] > 300 and image.shape[1] > 300


@pytest.mark.slow
def test_the_command_line_shows_no_tensorflow_logs_unless_asked(tmp_path):
    data = tmp_path / "train.csv"
    data.write_text("text,label\n" + "a good film,pos\na bad film,neg\n" * 4)
    code = (
        "import sys; from skbert.cli import main; "
        f"sys.exit(main(sys.argv[1:] + ['fit', {str(data)!r}, '--model', "
        f"{str(tmp_path / 'm')!r}, '--encoder', {TINY!r}, '--epochs', '1']))"
    )
    quiet = run_python(f"import sys; sys.argv = ['skbert']; {code}")
    assert "fitted on 8 examples" in quiet.stdout
    noise = [
        line
        for line in quiet.stderr.splitlines()
        if "0000 " in line or "absl" in line or "WARNING:tensorflow" in line
    ]
    assert noise == []
    import shutil

    shutil.rmtree(tmp_path / "m")
    loud = run_python(f"import sys; sys.argv = ['skbert', '--verbose']; {code}")
    assert "absl::InitializeLog" in loud.stderr
