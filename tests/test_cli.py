"""The ``skbert`` command keeps every fit, every byte of text, and says what is wrong.

Its user errors are one line on stderr and a non-zero status, never a
traceback (``--verbose`` shows it).
"""

import shutil
import subprocess
import sys

import pandas as pd
import pytest

import skbert
from conftest import TINY, sentiment
from skbert import BertClassifier
from skbert.cli import UserError, main
from skbert.persistence import OWN_FILES

#: Texts that quoting must carry through unchanged.
AWKWARD = [
    'He said "great" film',
    '"quoted" from the start',
    "a tab\there",
    "two\nlines",
    "a comma, inside",
    "a\r\ncarriage return",
    "",
    "  ",
    "plain",
]


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "model"
    fitted.save(path)
    return path


def untrained(*args, **kwargs):
    raise AssertionError("the command trained before it checked its input")


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if anything is fitted."""
    monkeypatch.setattr(BertClassifier, "fit", untrained)


def fit_args(data, model):
    return [
        "fit",
        str(data),
        "--model",
        str(model),
        "--encoder",
        TINY,
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--max-seq-length",
        "16",
        "--random-state",
        "0",
    ]


def write_reviews(path, n=16):
    X, y = sentiment(n, seed=0)
    pd.DataFrame({"text": X, "label": y}).to_csv(path, index=False)
    return path


def test_fit_checks_the_model_folder_before_training(
    saved, tmp_path, monkeypatch, capsys
):
    data = write_reviews(tmp_path / "reviews.csv")
    taken, model = tmp_path / "taken", tmp_path / "model"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    shutil.copytree(saved, model)
    with monkeypatch.context() as patch:
        patch.setattr(BertClassifier, "fit", untrained)
        with pytest.raises(SystemExit, match=r"skbert did not write \(notes.txt\)"):
            main(fit_args(data, taken))
        with pytest.raises(SystemExit, match="pass --overwrite to replace it"):
            main(fit_args(data, model))
    assert (taken / "notes.txt").read_text() == "mine"
    assert main([*fit_args(data, model), "--overwrite"]) == 0
    assert "classes ['neg', 'pos']; saved" in capsys.readouterr().out
    assert skbert.load(model).n_iter_ == 1


@pytest.mark.parametrize("extension", ["tsv", "csv"])
def test_predict_writes_every_text_back_byte_for_byte(saved, tmp_path, extension):
    sep = "\t" if extension == "tsv" else ","
    data = tmp_path / f"texts.{extension}"
    table = pd.DataFrame({"text": AWKWARD, "note": ["007", "1.10", *"abcdefg"]})
    table.to_csv(data, sep=sep, index=False)  # pandas quotes as it needs
    out, again = tmp_path / f"out.{extension}", tmp_path / f"again.{extension}"
    assert (
        main(["predict", str(data), "--model", str(saved), "--output", str(out)]) == 0
    )
    read = pd.read_csv(out, sep=sep, dtype=str, keep_default_na=False)
    assert read["text"].tolist() == AWKWARD
    assert read["note"].tolist() == table["note"].tolist()
    assert read["prediction"].tolist() == skbert.load(saved).predict(AWKWARD).tolist()
    # The output read and written again is the same file: nothing piles up.
    assert (
        main(["predict", str(out), "--model", str(saved), "--output", str(again)]) == 0
    )
    assert again.read_bytes() == out.read_bytes()


def test_fit_refuses_an_empty_label_naming_its_row(tmp_path, no_training):
    data = tmp_path / "reviews.csv"
    data.write_text('text,label\ngood film,1\n"a long\none",0\nbad film,\nok,1\n')
    with pytest.raises(SystemExit) as caught:
        main(fit_args(data, tmp_path / "model"))
    message = str(caught.value)
    assert "line 5 (row 3 after the header): the label column 'label' is empty" in (
        message
    )
    assert "\n" not in message and not (tmp_path / "model").exists()


def test_user_errors_are_one_line_and_say_what_to_do(saved, tmp_path, no_training):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,label\ncafé crème,pos\nnaïve,neg\n".encode("latin-1"))
    cases = [
        (
            ["predict", str(latin), "--model", str(saved)],
            r"latin.csv is not utf-8 text .* --encoding latin-1",
        ),
        (
            [
                "predict",
                str(write_reviews(tmp_path / "ok.csv")),
                "--model",
                str(tmp_path / "gone"),
            ],
            r"gone is not a directory, so not a saved skbert estimator",
        ),
        (
            ["evaluate", str(tmp_path / "missing.csv"), "--model", str(saved)],
            "No such file or directory",
        ),
        (fit_args(latin, tmp_path / "model"), "--encoding latin-1"),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit, match=message) as caught:
            main(argv)
        assert "\n" not in str(caught.value)
    out = tmp_path / "out.csv"
    argv = ["predict", str(latin), "--model", str(saved), "--output", str(out)]
    assert main([*argv, "--encoding", "latin-1"]) == 0
    assert out.read_bytes().startswith(
        "text,label,prediction\ncafé crème,pos,".encode("latin-1")
    )


@pytest.mark.slow  # a fresh process imports TensorFlow: about 12 s
def test_the_command_prints_one_line_and_no_traceback(saved, tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text\ncafé\n".encode("latin-1"))
    command = [sys.executable, "-m", "skbert.cli"]
    argv = ["predict", str(latin), "--model", str(saved)]
    result = subprocess.run([*command, *argv], capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("skbert predict: error: ")
    with pytest.raises(UserError, match="--encoding"):  # its traceback shows
        main(["--verbose", *argv])


def test_demo_runs_again_in_the_same_folder(tmp_path, monkeypatch):
    from skbert import demo

    texts, topics = sentiment(80, seed=0)
    monkeypatch.setattr(demo, "load_bbc_news", lambda: (texts, list(topics)))
    tiny = dict(encoder=TINY, max_seq_length=16, pooling="mean")
    monkeypatch.setattr(demo, "READER", {**demo.READER, **tiny})
    monkeypatch.setattr(demo, "FEW_SHOT_PARAMS", {"max_pairs": 60})
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        results = demo.run_demo(sizes=(2,), seeds=1)
    assert set(results) == {0, 2, "all"}
    assert set(results[2]) == {demo.BASELINE, demo.FROZEN, demo.FEW_SHOT}
    assert (tmp_path / "skbert-demo-plots" / "accuracy_curve.png").is_file()
    assert sorted(p.name for p in (tmp_path / "skbert-demo-model").iterdir()) == sorted(
        OWN_FILES
    )
    (tmp_path / "skbert-demo-model" / "notes.txt").write_text("mine")
    monkeypatch.setattr(demo, "load_bbc_news", None)  # fails if it gets that far
    with pytest.raises(FileExistsError, match="skbert did not write"):
        demo.run_demo()
