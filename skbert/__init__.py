"""skbert: scikit-learn estimators on TF Hub BERT encoders, extended by pluggy plugins.

Examples
--------
>>> import skbert
>>> clf = skbert.BertClassifier("tiny_random_en_uncased")
>>> skbert.hookimpl.project_name
'skbert'
"""

from skbert.classifier import BertClassifier
from skbert.encoders import EncoderLoadError
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
from skbert.specs import EncoderOutputs, EncoderSpec, HeadOutput, HeadSpec
from skbert.vectorizer import BertVectorizer

__all__ = [
    "BertClassifier",
    "BertRegressor",
    "BertVectorizer",
    "EncoderLoadError",
    "EncoderOutputs",
    "EncoderSpec",
    "HeadOutput",
    "HeadSpec",
    "ModelFormatError",
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
