"""An skbert plugin: each BERT checkpoint under ``$SKBERT_CHECKPOINTS`` is a preset.

``SKBERT_CHECKPOINTS`` lists folders (separated like ``PATH``); every
sub-folder holding a Hugging Face BERT checkpoint (``config.json``,
``model.safetensors``, ``vocab.txt``) is registered as ``local_<name>`` and
converted to TF Hub SavedModels on first use, into skbert's cache.
"""

import functools
import json
import os
import re
from pathlib import Path

import skbert
from skbert.convert import convert_checkpoint

ENV = "SKBERT_CHECKPOINTS"
FILES = ("config.json", "model.safetensors", "vocab.txt")


def find_checkpoints():
    """The checkpoint folders under the folders `ENV` names, sorted by name."""
    found = []
    for root in filter(None, os.environ.get(ENV, "").split(os.pathsep)):
        if not Path(root).is_dir():
            raise FileNotFoundError(f"{ENV} names {root!r}, which is not a folder.")
        for folder in sorted(Path(root).iterdir()):
            if all((folder / name).is_file() for name in FILES):
                found.append(folder)
    return found


def has_pooler(folder):
    """Whether the checkpoint has a trained pooler (sentence encoders often lack it)."""
    from safetensors import safe_open

    with safe_open(str(folder / "model.safetensors"), framework="numpy") as f:
        return any(key.endswith("pooler.dense.weight") for key in f.keys())


@skbert.hookimpl
def skbert_register_encoders(register):
    for folder in find_checkpoints():
        config = json.loads((folder / "config.json").read_text())
        weights = (folder / "model.safetensors").stat()
        pooling = "pooler" if has_pooler(folder) else "mean"
        register(
            skbert.EncoderSpec(
                name="local_" + re.sub(r"\W+", "_", folder.name).lower(),
                description=f"BERT checkpoint in {folder} ({pooling} pooling)",
                hidden_size=config["hidden_size"],
                max_seq_length=config["max_position_embeddings"],
                build=functools.partial(convert_checkpoint, folder, pooling=pooling),
                # Rebuild the cached conversion when the weights file changes.
                revision=f"{weights.st_size}-{weights.st_mtime_ns}",
            )
        )
