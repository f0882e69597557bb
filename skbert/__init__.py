"""skbert: scikit-learn estimators on TF Hub BERT encoders, extended by pluggy plugins.

Examples
--------
>>> import skbert
>>> clf = skbert.BertClassifier("tiny_random_en_uncased")
>>> skbert.hookimpl.project_name
'skbert'
"""

import os

# TensorFlow's oneDNN kernels: on by default only on some Intel CPUs; on this
# project's 2-core AMD machines they make the encoder ~30 % faster. It takes
# effect only if TensorFlow is imported after skbert; set it to 0 to opt out.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from skbert.classifier import BertClassifier
from skbert.distillation import distill
from skbert.encoders import EncoderLoadError
from skbert.fewshot import BertFewShotClassifier
from skbert.hookspecs import hookimpl
from skbert.persistence import ModelFormatError, load
from skbert.plugins import (
    PluginInfo,
    PluginWarning,
    get_encoder,
    get_head,
    list_encoders,
    list_heads,
    list_plugins,
)
from skbert.regressor import BertRegressor
from skbert.runtime import InferenceBackendWarning
from skbert.specs import EncoderOutputs, EncoderSpec, HeadOutput, HeadSpec
from skbert.vectorizer import BertVectorizer
from skbert.zeroshot import BertZeroShotClassifier

#: Names served from modules that import TensorFlow, loaded on first use.
_LAZY = {
    "clear_feature_cache": "skbert.features",
    "feature_cache_info": "skbert.features",
}

__all__ = [
    "BertClassifier",
    "BertFewShotClassifier",
    "BertRegressor",
    "BertVectorizer",
    "BertZeroShotClassifier",
    "EncoderLoadError",
    "EncoderOutputs",
    "EncoderSpec",
    "HeadOutput",
    "HeadSpec",
    "InferenceBackendWarning",
    "ModelFormatError",
    "clear_feature_cache",
    "distill",
    "feature_cache_info",
    "PluginInfo",
    "PluginWarning",
    "get_encoder",
    "get_head",
    "hookimpl",
    "list_encoders",
    "list_heads",
    "list_plugins",
    "load",
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'skbert' has no attribute {name!r}")
