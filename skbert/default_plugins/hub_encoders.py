"""The TF Hub BERT family (Devlin et al. 2018; Turc et al. 2019) by Hub handle."""

from __future__ import annotations

from skbert.hookspecs import hookimpl
from skbert.specs import EncoderSpec

_HUB = "https://tfhub.dev/tensorflow"
_UNCASED = f"{_HUB}/bert_en_uncased_preprocess/3"
_CASED = f"{_HUB}/bert_en_cased_preprocess/3"

#: name: (description, encoder handle, preprocessor handle, hidden, parameters as
#: published, rounded)
PRESETS = {
    "bert_base_en_uncased": (
        "BERT base, 12 layers, uncased English",
        f"{_HUB}/bert_en_uncased_L-12_H-768_A-12/4",
        _UNCASED,
        768,
        110_000_000,
    ),
    "bert_base_en_cased": (
        "BERT base, 12 layers, cased English",
        f"{_HUB}/bert_en_cased_L-12_H-768_A-12/4",
        _CASED,
        768,
        108_000_000,
    ),
    "bert_large_en_uncased": (
        "BERT large, 24 layers, uncased English",
        f"{_HUB}/bert_en_uncased_L-24_H-1024_A-16/4",
        _UNCASED,
        1024,
        340_000_000,
    ),
    "bert_large_en_cased": (
        "BERT large, 24 layers, cased English",
        f"{_HUB}/bert_en_cased_L-24_H-1024_A-16/4",
        _CASED,
        1024,
        333_000_000,
    ),
    "bert_tiny_en_uncased": (
        "Small BERT, 2 layers, hidden 128, uncased English",
        f"{_HUB}/small_bert/bert_en_uncased_L-2_H-128_A-2/2",
        _UNCASED,
        128,
        4_400_000,
    ),
    "bert_mini_en_uncased": (
        "Small BERT, 4 layers, hidden 256, uncased English",
        f"{_HUB}/small_bert/bert_en_uncased_L-4_H-256_A-4/2",
        _UNCASED,
        256,
        11_300_000,
    ),
    "bert_small_en_uncased": (
        "Small BERT, 4 layers, hidden 512, uncased English",
        f"{_HUB}/small_bert/bert_en_uncased_L-4_H-512_A-8/2",
        _UNCASED,
        512,
        29_100_000,
    ),
    "bert_medium_en_uncased": (
        "Small BERT, 8 layers, hidden 512, uncased English",
        f"{_HUB}/small_bert/bert_en_uncased_L-8_H-512_A-8/2",
        _UNCASED,
        512,
        41_700_000,
    ),
}


@hookimpl
def skbert_register_encoders(register):
    for name, (description, encoder, preprocessor, hidden, params) in PRESETS.items():
        register(
            EncoderSpec(
                name=name,
                description=description,
                preprocessor=preprocessor,
                encoder=encoder,
                hidden_size=hidden,
                lower_case="uncased" in name,
                max_seq_length=512,
                parameters=params,
            )
        )
