"""Nothing lost, nothing silently changed: saves are whole or absent, loads check.

A save is interrupted (KeyboardInterrupt, as Ctrl-C raises it) or fails (a
full disk) at chosen points by patching the function that writes there; the
destination must then hold the old complete directory, or nothing.
"""

import errno
import json
import os
import pathlib
import shutil

import pytest
import safetensors.numpy

import skbert
from skbert import ModelFormatError
from skbert.persistence import CONFIG_FILE, WEIGHTS_FILE


def contents(path: pathlib.Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def fail_on_call(monkeypatch, owner, name: str, nth: int, error: BaseException):
    """Make the `nth` call of ``owner.name`` raise `error`; the others run."""
    real = getattr(owner, name)
    calls = []

    def patched(*args, **kwargs):
        calls.append(args)
        if len(calls) == nth:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, patched)


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model"
    fitted.save(path)
    return path


@pytest.fixture(scope="module")
def reference(saved):
    """What a complete save of `fitted` holds."""
    return contents(saved)


#: Where a save can be cut short: each file's write, the flush to disk, the
#: renames (old aside, new in) and the deletion of the old directory.
MOMENTS = [
    (safetensors.numpy, "save_file", 1),
    (pathlib.Path, "write_bytes", 1),
    (shutil, "copyfile", 1),
    (pathlib.Path, "write_text", 1),
    (os, "fsync", 3),
    (os, "replace", 1),
    (os, "replace", 2),
    (shutil, "rmtree", 1),
]


@pytest.mark.parametrize("replacing", [False, True], ids=["new", "replacing"])
@pytest.mark.parametrize(
    "owner, name, nth", MOMENTS, ids=[f"{m[1]}-{m[2]}" for m in MOMENTS]
)
def test_an_interrupted_save_leaves_the_old_directory_or_none(
    fitted, reference, tmp_path, monkeypatch, owner, name, nth, replacing
):
    path = tmp_path / "model"
    if replacing:
        fitted.save(path)
    fail_on_call(monkeypatch, owner, name, nth, KeyboardInterrupt())
    try:
        fitted.save(path, overwrite=True)
    except KeyboardInterrupt:
        pass
    monkeypatch.undo()
    left = sorted(p.name for p in tmp_path.iterdir())
    if left:  # the old directory, or the new one when the interrupt came after
        assert left == ["model"] and contents(path) == reference
    else:
        assert not replacing, "the old directory is gone"


def test_a_full_disk_leaves_the_old_directory(fitted, reference, tmp_path, monkeypatch):
    path = tmp_path / "model"
    fitted.save(path)
    full = OSError(errno.ENOSPC, "No space left on device")
    fail_on_call(monkeypatch, pathlib.Path, "write_bytes", 1, full)
    with pytest.raises(OSError, match="No space left"):
        fitted.save(path, overwrite=True)
    fail_on_call(monkeypatch, pathlib.Path, "write_bytes", 1, full)
    with pytest.raises(OSError, match="No space left"):
        fitted.save(tmp_path / "new")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert contents(path) == reference


def test_save_replaces_only_what_skbert_saved(fitted, reference, tmp_path):
    path = tmp_path / "model"
    fitted.save(path)
    with pytest.raises(FileExistsError, match="pass overwrite=True to replace it"):
        fitted.save(path)
    fitted.save(path, overwrite=True)
    assert contents(path) == reference
    (path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"skbert did not write \(model.onnx, "):
        fitted.save(path, overwrite=True)
    assert (path / "notes.txt").read_text() == "mine"
    other = tmp_path / "other"
    other.mkdir()
    (other / "vocab.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="never replaces or deletes them"):
        fitted.save(other, overwrite=True)
    assert contents(other) == {"vocab.txt": b"mine"}
    with pytest.raises(FileExistsError, match="not a directory"):
        fitted.save(other / "vocab.txt", overwrite=True)


def test_what_an_older_interrupted_save_left_is_replaced_when_asked(
    fitted, reference, tmp_path
):
    # skbert up to issue 27 wrote in place, weights first and skbert.json last.
    path = tmp_path / "model"
    path.mkdir()
    (path / WEIGHTS_FILE).write_bytes(reference[WEIGHTS_FILE][:100])
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        fitted.save(path)
    fitted.save(path, overwrite=True)
    assert contents(path) == reference


def edited(saved: pathlib.Path, tmp_path, change) -> pathlib.Path:
    path = pathlib.Path(shutil.copytree(saved, tmp_path / "edited"))
    document = json.loads((path / CONFIG_FILE).read_text())
    change(document)
    (path / CONFIG_FILE).write_text(json.dumps(document))
    return path


def fitted_entry(document, name):
    return dict(document["fitted"]["__dict__"])[name]


def param_entry(document, name, value):
    for pair in document["params"]["__dict__"]:
        if pair[0] == name:
            pair[1] = value


def a_third_class(document):
    classes = fitted_entry(document, "classes_")
    classes["__ndarray__"].append("zzz")
    classes["shape"] = [3]


@pytest.mark.parametrize("backend", ["tensorflow", "onnxruntime"])
@pytest.mark.parametrize(
    "change, message",
    [
        (a_third_class, r"3 entries in 'fitted' 'classes_'.* has 2 outputs"),
        (
            lambda d: param_entry(d, "epochs", "many"),
            r"bad value in 'params': The 'epochs' parameter",
        ),
        (
            lambda d: param_entry(d, "long_texts", "all"),
            r"bad value in 'params': The 'long_texts' parameter",
        ),
    ],
    ids=["classes", "epochs", "long_texts"],
)
def test_load_refuses_an_edited_manifest_naming_the_field(
    saved, tmp_path, backend, change, message
):
    path = edited(saved, tmp_path, change)
    with pytest.raises(ModelFormatError, match=message):
        skbert.load(path, backend=backend)


def test_onnx_export_is_whole_or_absent_and_replaces_only_its_own(
    fitted, tmp_path, monkeypatch
):
    path = tmp_path / "served"
    fail_on_call(monkeypatch, shutil, "copyfile", 1, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        fitted.export(path, format="onnx")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
    fitted.export(path, format="onnx")
    first = contents(path)
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        fitted.export(path, format="onnx")
    fitted.export(path, format="onnx", overwrite=True)
    assert contents(path) == first
    with pytest.raises(FileExistsError, match="skbert did not write"):
        fitted.export(tmp_path, format="onnx", overwrite=True)
    with pytest.raises(ValueError, match="drop overwrite=True"):
        fitted.export(tmp_path / "tf", format="saved_model", overwrite=True)
