"""The BERT preprocessor: WordPiece tokenization and input packing in TF.

`BertPreprocessor` is a ``tf.Module`` with the three entry points of a TF Hub
BERT preprocessor: calling it on a batch of strings, ``tokenize`` and
``bert_pack_inputs``. Saved with `save_preprocessor`, it loads with plain
``hub.load`` / ``hub.KerasLayer`` (after ``import tensorflow_text``).
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf
import tensorflow_text as text

#: The sequence length of the plain call, as in TF Hub's preprocessors.
DEFAULT_SEQ_LENGTH = 128
#: Number of segments ``bert_pack_inputs`` is saved for.
MAX_SEGMENTS = 3

_RAGGED_TOKENS = tf.RaggedTensorSpec([None, None, None], tf.int32, ragged_rank=2)


class BertPreprocessor(tf.Module):
    """Tokenizes strings and packs them into BERT inputs.

    Parameters
    ----------
    vocab_file : path
        WordPiece vocabulary, one token a line; it becomes an asset of the
        SavedModel.
    lower_case : bool
        Lower-case and strip accents before WordPiece (uncased models).

    Examples
    --------
    >>> import tensorflow as tf
    >>> pre = BertPreprocessor(vocab_file, lower_case=True)  # doctest: +SKIP
    >>> pre(tf.constant(["hello world"]))["input_word_ids"].shape  # doctest: +SKIP
    TensorShape([1, 128])
    """

    def __init__(self, vocab_file: str | Path, lower_case: bool):
        super().__init__()
        tokens = Path(vocab_file).read_text(encoding="utf-8").splitlines()
        self._cls_id = tokens.index("[CLS]")
        self._sep_id = tokens.index("[SEP]")
        self._pad_id = tokens.index("[PAD]")
        self._table = tf.lookup.StaticVocabularyTable(
            tf.lookup.TextFileInitializer(
                str(vocab_file),
                key_dtype=tf.string,
                key_index=tf.lookup.TextFileIndex.WHOLE_LINE,
                value_dtype=tf.int64,
                value_index=tf.lookup.TextFileIndex.LINE_NUMBER,
            ),
            num_oov_buckets=1,
        )
        self._tokenizer = text.BertTokenizer(
            self._table, token_out_type=tf.int32, lower_case=lower_case
        )

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def tokenize(self, strings):
        """Strings ``[batch]`` to WordPiece ids ``[batch, (words), (pieces)]``."""
        return self._tokenizer.tokenize(strings)

    @tf.function
    def bert_pack_inputs(self, segments, seq_length=DEFAULT_SEQ_LENGTH):
        """Pack tokenized segments as ``[CLS] a [SEP] b [SEP] ...``.

        Segments are trimmed round-robin (the longest loses tokens first) so
        that the packed sequence fits ``seq_length``; ``input_type_ids`` is
        the segment index.
        """
        flat = [tf.cast(s.merge_dims(-2, -1), tf.int32) for s in segments]
        budget = seq_length - len(flat) - 1
        trimmed = text.RoundRobinTrimmer(max_seq_length=budget).trim(flat)
        ids, type_ids = text.combine_segments(
            trimmed, start_of_sequence_id=self._cls_id, end_of_segment_id=self._sep_id
        )
        word_ids, mask = text.pad_model_inputs(
            ids, max_seq_length=seq_length, pad_value=self._pad_id
        )
        type_ids, _ = text.pad_model_inputs(type_ids, max_seq_length=seq_length)
        return {
            "input_word_ids": word_ids,
            "input_mask": mask,
            "input_type_ids": type_ids,
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, strings):
        return self.bert_pack_inputs([self.tokenize(strings)], DEFAULT_SEQ_LENGTH)


def save_preprocessor(preprocessor: BertPreprocessor, path: str | Path) -> None:
    """Save `preprocessor` as a TF Hub-format SavedModel at `path`."""
    for n in range(1, MAX_SEGMENTS + 1):
        preprocessor.bert_pack_inputs.get_concrete_function(
            [_RAGGED_TOKENS] * n, tf.TensorSpec([], tf.int32)
        )
    tf.saved_model.save(preprocessor, str(path))
