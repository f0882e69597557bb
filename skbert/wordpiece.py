"""Texts to packed BERT inputs without TensorFlow, with the ids TensorFlow gives.

`WordPieceTokenizer` tokenizes with the ``tokenizers`` package and packs with
numpy, and gives the token ids that skbert's TF preprocessor gives
(``tensorflow_text.BertTokenizer``, then ``bert_pack_inputs``, as
`skbert.model.Packer` calls them). It imports neither TensorFlow nor
``tensorflow_text``.

How each rule of ``tensorflow_text`` is reproduced:

* Lower-casing (uncased vocabularies) is ICU's NFKC_Casefold, then NFD, then
  dropping nonspacing marks (``\\p{Mn}``). ``tokenizers`` cannot express it.
  Its ``Lowercase`` is not case folding: "ß" stays (TF makes "ss"), "ς"
  stays (TF: "σ"), Cherokee goes to small letters (TF: capitals), and accent
  stripping drops the iota subscript of "ᾳ" (TF: "αι"). Its ``NFKC`` keeps
  the default-ignorable characters that NFKC_Casefold drops (soft hyphen,
  zero-width joiner, variation selectors), and its tables are older: it
  leaves "㋿" (U+32FF, Unicode 12.1) and "🯰" (U+1FBF0, 13.0) as they are.
  So Python's `unicodedata` does it: ASCII texts are ``str.lower``-ed, other
  texts get NFKC, ``str.casefold`` and NFKD, then lose default-ignorable code
  points and nonspacing marks (as TF's RE2 knows them: Unicode 15) in one
  numpy pass over all texts.
* Control and format characters (``\\p{Cc}``, ``\\p{Cf}``) become spaces
  (uncased, NFKC_Casefold has deleted the ignorable ones already: "a\\u200db"
  is one word uncased and two cased; ``tokenizers``' BERT normalizer deletes
  them all), and words are split at runs of ``[\\t\\n\\f\\r ]`` only (RE2's
  ``\\s``): other Unicode spaces such as U+00A0 stay inside words unless
  NFKC_Casefold made them a space. ASCII punctuation and symbols, ``\\p{P}``
  and CJK ideographs are words of their own. One ``Split`` pre-tokenizer
  finds the words, with a regular expression whose ``\\p{P}`` (Oniguruma,
  Unicode 16) leaves out the 13 punctuation characters new in Unicode 16,
  which TF's RE2 does not know.
* WordPiece gives ``[UNK]`` for a word over 100 UTF-8 *bytes*, where
  ``tokenizers`` counts characters. Its limit stays at 100 characters (right
  for ASCII words); a text that could hold a longer non-ASCII word is split
  into words here and such a word is replaced by one of 101 ASCII characters,
  which is ``[UNK]`` too.
* Packing is numpy: segments are trimmed as ``RoundRobinTrimmer`` trims them
  (one token to each segment in turn, the first segment first, until the
  budget ``max_seq_length - n_segments - 1`` is spent), then joined as
  ``[CLS] a [SEP] b [SEP]`` and padded with ``[PAD]``. Special ids come from
  the vocabulary as skbert's preprocessor finds them; a missing ``[UNK]`` is
  TF's out-of-vocabulary bucket, id ``len(vocabulary)``.

Not matched: with ``lower_case=True``, characters that Python's Unicode
database (`unicodedata.unidata_version`, 14.0 on Python 3.11) does not know
yet, while ``tensorflow_text``'s ICU does (Unicode 16). Their case folding,
compatibility and canonical decompositions and nonspacing-mark status come
from ICU in TF and are missed here. On Python 3.11 that is 145 code points:
U+1C89, U+A7CB-U+A7CC, U+A7DA, U+A7DC, U+105C9, U+105E4, U+10D50-U+10D65,
U+11383, U+11385, U+1138E, U+11391, U+113C5, U+113C7-U+113C8,
U+16121-U+16128, U+16D68-U+16D6A, U+1CCD6-U+1CCF9 and U+1E030-U+1E06D
(newer Pythons know more of them). Cased tokenization matches for every
code point. The exceptions above are those of ``tokenizers`` 0.23
(Oniguruma, Unicode 16) against ``tensorflow-text`` 2.21 (RE2, Unicode 15;
ICU, Unicode 16); ``tests/test_wordpiece.py`` checks every code point.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from skbert.default_plugins.tiny_random import vocabulary
>>> vocab = vocabulary()
>>> with tempfile.TemporaryDirectory() as tmp:
...     vocab_file = Path(tmp) / "vocab.txt"
...     _ = vocab_file.write_text("\\n".join(vocab) + "\\n", encoding="utf-8")
...     tokenizer = WordPieceTokenizer(vocab_file, lower_case=True, max_seq_length=16)
>>> packed = tokenizer.pack((["Hello world!", "Straße"],))
>>> packed.lengths
array([8, 9])
>>> for row in packed.batch([0, 1])["input_word_ids"]:
...     print(" ".join(vocab[i] for i in row))
[CLS] he ##l ##l ##o world ! [SEP] [PAD]
[CLS] s ##t ##r ##a ##s ##s ##e [SEP]
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
import unicodedata
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
from tokenizers import Regex, Tokenizer, pre_tokenizers
from tokenizers.models import WordPiece

#: ``tensorflow_text``'s WordPiece limit: longer words are one ``[UNK]``.
MAX_BYTES_PER_WORD = 100
SUFFIX_INDICATOR = "##"
UNKNOWN_TOKEN = "[UNK]"
SPECIAL_TOKENS = ("[CLS]", "[SEP]", "[PAD]")

# Characters that are words of their own: TF's ASCII ranges, \p{P} and CJK
# ideographs.
_ALONE = (
    r"!-/:-@\[-`{-~\p{P}"
    r"\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2B73F}"
    r"\x{2B740}-\x{2B81F}\x{2B820}-\x{2CEAF}\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}"
)
# Punctuation new in Unicode 16: \p{P} to Oniguruma, not yet to TF's RE2.
_NEW_PUNCTUATION = (
    r"\x{1B4E}\x{1B4F}\x{1B7F}\x{10D6E}\x{113D4}\x{113D5}\x{113D7}\x{113D8}"
    r"\x{11BE1}\x{16D6D}-\x{16D6F}\x{1E5FF}"
)
# The words, in one pass: runs of characters other than RE2's \s, Cc and Cf
# (which TF makes spaces) and those above, where the new punctuation counts as
# a letter; or one of those above. What lies between words is dropped.
_WORDS = rf"[[^\t\n\f\r \p{{Cc}}\p{{Cf}}{_ALONE}]{_NEW_PUNCTUATION}]+|[{_ALONE}]"
# Default_Ignorable_Code_Point: what NFKC_Casefold deletes.
_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)  # fmt: skip
# Nonspacing marks lie in U+0300..U+1EFFF, and in U+E0100..U+E01EF, ignorable.
_MARKS = range(0x0300, 0x1F000)
# TF's RE2 knows the nonspacing marks of Unicode 15: those new in 15.0 (and
# U+1171E), which Python 3.11 lacks, go too; those new in 16.0, which newer
# Pythons know, stay.
_MARKS_15 = (
    (0x0ECE, 0x0ECE), (0x10EFD, 0x10EFF), (0x11241, 0x11241), (0x11F00, 0x11F01),
    (0x11F36, 0x11F3A), (0x11F40, 0x11F40), (0x11F42, 0x11F42), (0x13440, 0x13440),
    (0x13447, 0x13455), (0x1171E, 0x1171E), (0x1E08F, 0x1E08F), (0x1E4EC, 0x1E4EF),
)  # fmt: skip
_MARKS_16 = (
    (0x0897, 0x0897), (0x10D69, 0x10D6D), (0x10EFC, 0x10EFC), (0x113BB, 0x113C0),
    (0x113CE, 0x113CE), (0x113D0, 0x113D0), (0x113D2, 0x113D2), (0x113E1, 0x113E2),
    (0x11F5A, 0x11F5A), (0x1611E, 0x16129), (0x1612D, 0x1612F), (0x1E5EE, 0x1E5EF),
)  # fmt: skip
# A run this long may be a word over MAX_BYTES_PER_WORD (4 bytes a character).
_MAYBE_LONG_WORD = re.compile(rf"[^\t\n\f\r ]{{{MAX_BYTES_PER_WORD // 4 + 1},}}")
# One ASCII word too long for WordPiece: [UNK] in place of an over-long word.
_TOO_LONG = "x" * (MAX_BYTES_PER_WORD + 1)
#: Characters first read of a long text per word piece it needs (`head`);
#: four times more each time that is too few.
CHARS_PER_PIECE = 16
# Where a word always ends: before an ASCII space or punctuation character.
# Folding leaves them as they are and never joins them to what comes before.
_WORD_END = re.compile(r"[\t\n\f\r !-/:-@\[-`{-~]")
# How far `word_end` looks for one.
_WORD_END_REACH = 1024


def word_end(text: str, position: int) -> int | None:
    """The first position at or after `position` where every word of `text` ends.

    The text before it tokenizes to the first word pieces of the whole text
    (an ASCII space or punctuation character follows). None if there is
    none within ``_WORD_END_REACH`` characters (nor the text's end).

    Examples
    --------
    >>> word_end("a long word, then", 3), word_end("a long word", 20)
    (6, 11)
    """
    if position >= len(text):
        return len(text)
    found = _WORD_END.search(text, position, position + _WORD_END_REACH)
    return found.start() if found else None


@functools.cache
def _dropped_mask() -> np.ndarray:
    """Whether each code point goes: a default ignorable or a nonspacing mark."""
    marks = {c for c in _MARKS if unicodedata.category(chr(c)) == "Mn"}
    marks = (marks | _code_points(_MARKS_15)) - _code_points(_MARKS_16)
    mask = np.zeros(0x110000, bool)
    mask[list(marks | _code_points(_IGNORABLE))] = True
    return mask


def _code_points(ranges: tuple[tuple[int, int], ...]) -> set[int]:
    return {c for first, last in ranges for c in range(first, last + 1)}


def fold(texts: Sequence[str]) -> list[str]:
    """`texts` lower-cased as ``tensorflow_text.BertTokenizer(lower_case=True)`` does.

    That is NFKC_Casefold, NFD and no nonspacing marks; see the module
    docstring for what Python's Unicode database cannot match.

    Examples
    --------
    >>> fold(["Straße ﬁne Ａ ΣΑΣ Café", "PLAIN ASCII"])
    ['strasse fine a σασ cafe', 'plain ascii']
    """
    folded = [text.lower() if text.isascii() else "" for text in texts]
    rest = [i for i, text in enumerate(texts) if not text.isascii()]
    # NFD after NFKC is NFKD.
    decomposed = [
        unicodedata.normalize(
            "NFKD", unicodedata.normalize("NFKC", texts[i]).casefold()
        )
        for i in rest
    ]
    for i, text in zip(rest, _drop_marks(decomposed)):
        folded[i] = text
    return folded


def _drop_marks(texts: list[str]) -> list[str]:
    """`texts` less ignorables and nonspacing marks: one numpy pass over them all."""
    if not texts:
        return []
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), np.uint32)
    keep = ~_dropped_mask()[codes]
    ends = np.cumsum(np.fromiter(map(len, texts), np.int64, len(texts)))
    kept_ends = np.concatenate([[0], np.cumsum(keep)])[ends].tolist()
    joined = codes[keep].tobytes().decode("utf-32-le")
    return [joined[a:b] for a, b in zip([0, *kept_ends[:-1]], kept_ends)]


def read_vocabulary(vocab_file: str | PathLike) -> list[str]:
    """The tokens of `vocab_file`, one a line, as TF's text-file table reads them.

    Lines end at ``"\\n"``, less one ``"\\r"`` before it; TF refuses empty
    lines and repeated tokens, and so does this function.
    """
    text = Path(vocab_file).read_bytes().decode("utf-8")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    tokens = [line.removesuffix("\r") for line in lines]
    if "" in tokens:
        raise ValueError(
            f"vocab_file {str(vocab_file)!r} has an empty line (line "
            f"{tokens.index('') + 1}); a vocabulary has one token on every line."
        )
    if len(set(tokens)) < len(tokens):
        seen: set[str] = set()
        twice = next(t for t in tokens if t in seen or seen.add(t))
        raise ValueError(
            f"vocab_file {str(vocab_file)!r} lists the token {twice!r} twice; "
            "every token must be on one line only."
        )
    return tokens


@dataclasses.dataclass(frozen=True, eq=False)
class PackedTexts:
    """Packed BERT inputs of a batch of examples, gathered batch by batch.

    Attributes
    ----------
    ids : ndarray of int64
        Every example's packed ids (``[CLS]`` to the last ``[SEP]``), end to end.
    starts : ndarray of int64
        Where each example starts in `ids`.
    lengths : ndarray of int64
        Packed length of each example, ``[CLS]`` and ``[SEP]`` included.
    second_starts : ndarray of int64
        Position in each example where the second segment (type id 1)
        starts; the example's length if it has one segment.
    pad_id : int
        The vocabulary's ``[PAD]`` id.
    """

    ids: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    second_starts: np.ndarray
    pad_id: int

    def __len__(self) -> int:
        return len(self.lengths)

    def batch(self, index: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
        """The model inputs of the examples at `index`, padded to the longest.

        Parameters
        ----------
        index : sequence of int
            Positions of the examples, in the order wanted.

        Returns
        -------
        dict of str to ndarray
            ``input_word_ids`` (``[PAD]`` after the end), ``input_mask`` (1 on
            tokens, 0 on padding) and ``input_type_ids`` (0 first segment, 1
            second), each int64 of shape ``[len(index), longest length]``.
        """
        index = np.asarray(index, dtype=np.int64)
        lengths = self.lengths[index]
        positions = np.arange(lengths.max(initial=0))
        mask = positions < lengths[:, None]
        flat = np.where(mask, self.starts[index][:, None] + positions, 0)
        second = positions >= self.second_starts[index][:, None]
        return {
            "input_word_ids": np.where(mask, self.ids[flat], self.pad_id),
            "input_mask": mask.astype(np.int64),
            "input_type_ids": (second & mask).astype(np.int64),
        }


class WordPieceTokenizer:
    """Texts to BERT inputs: TF preprocessor's WordPiece ids, without TensorFlow.

    Parameters
    ----------
    vocab_file : path
        WordPiece vocabulary, one token a line, with ``[CLS]``, ``[SEP]`` and
        ``[PAD]`` (the ``vocab.txt`` next to an encoder's ``preprocess/``).
    lower_case : bool, default=True
        Lower-case and strip accents first (uncased vocabularies), as the
        encoder's `~skbert.EncoderSpec` ``lower_case`` says.
    max_seq_length : int, default=128
        Longest packed sequence; longer examples are trimmed.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skbert.default_plugins.tiny_random import vocabulary
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     vocab_file = Path(tmp) / "vocab.txt"
    ...     _ = vocab_file.write_text("\\n".join(vocabulary()), encoding="utf-8")
    ...     tokenizer = WordPieceTokenizer(vocab_file, max_seq_length=6)
    >>> packed = tokenizer.pack((["a b c d e f", "a"], ["x y z", ""]))
    >>> packed.lengths
    array([6, 4])
    >>> batch = packed.batch([0, 1])
    >>> batch["input_word_ids"]
    array([[ 2,  5,  6,  3, 28,  3],
           [ 2,  5,  3,  3,  0,  0]])
    >>> batch["input_type_ids"]
    array([[0, 0, 0, 0, 1, 1],
           [0, 0, 0, 1, 0, 0]])
    """

    def __init__(
        self,
        vocab_file: str | PathLike,
        lower_case: bool = True,
        max_seq_length: int = 128,
    ):
        self.vocab_file = vocab_file
        self.lower_case = lower_case
        self.max_seq_length = max_seq_length
        tokens = read_vocabulary(vocab_file)
        vocab = {token: i for i, token in enumerate(tokens)}
        # As skbert's BertPreprocessor finds them (str.splitlines).
        lines = Path(vocab_file).read_text(encoding="utf-8").splitlines()
        missing = [t for t in SPECIAL_TOKENS if t not in lines]
        if missing:
            raise ValueError(
                f"vocab_file {str(vocab_file)!r} has no {', '.join(missing)}; a "
                f"BERT vocabulary needs {', '.join(SPECIAL_TOKENS)} to pack inputs."
            )
        self.cls_id, self.sep_id, self.pad_id = map(lines.index, SPECIAL_TOKENS)
        # TF looks a missing [UNK] up in its one out-of-vocabulary bucket.
        vocab.setdefault(UNKNOWN_TOKEN, len(tokens))
        self.unk_id = vocab[UNKNOWN_TOKEN]
        self._tokenizer = Tokenizer(
            WordPiece(
                vocab,
                unk_token=UNKNOWN_TOKEN,
                continuing_subword_prefix=SUFFIX_INDICATOR,
                max_input_chars_per_word=MAX_BYTES_PER_WORD,
            )
        )
        self._tokenizer.pre_tokenizer = pre_tokenizers.Split(
            Regex(_WORDS), "removed", invert=True
        )

    def pack(self, segments: Sequence[Sequence[str]]) -> PackedTexts:
        """Tokenize and pack examples of one or two segments.

        Parameters
        ----------
        segments : tuple of 1 or 2 sequences of str
            ``(text_a,)`` or ``(text_a, text_b)``, sequences of equal length.

        Returns
        -------
        PackedTexts
            The packed examples; ``batch(index)`` gives model inputs.
        """
        segments = tuple(segments)
        n_segments = len(segments)
        if n_segments not in (1, 2):
            raise ValueError(
                f"segments has {n_segments} sequences of texts; pass (text_a,) or "
                "(text_a, text_b)."
            )
        n = len(segments[0])
        if any(len(s) != n for s in segments):
            lengths = [len(s) for s in segments]
            raise ValueError(
                f"segments have different lengths {lengths}; text_a and text_b "
                "need one text each per example."
            )
        budget = self.max_seq_length - n_segments - 1
        if budget < 0:
            raise ValueError(
                f"max_seq_length={self.max_seq_length} leaves no room for "
                f"[CLS] and {n_segments} [SEP]; use at least {n_segments + 1}."
            )
        # A long text is read only as far as the budget of word pieces needs.
        texts = [self.head(text, budget) for segment in segments for text in segment]
        if self.lower_case:
            texts = fold(texts)
        texts = [self._limit_word_bytes(text) for text in texts]
        encodings = self._tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        counts = np.fromiter(map(len, encodings), np.int64, len(encodings))
        tokens = np.fromiter(
            itertools.chain.from_iterable(e.ids for e in encodings),
            np.int64,
            int(counts.sum()),
        )
        token_starts = (np.cumsum(counts) - counts).reshape(n_segments, n)
        kept = _round_robin(counts.reshape(n_segments, n), budget)
        return self._combine(tokens, token_starts, kept)

    def head(self, text: str, n_pieces: int) -> str:
        """The beginning of `text` that holds its first `n_pieces` word pieces.

        Short texts come back whole. A longer one is cut after
        ``CHARS_PER_PIECE * n_pieces`` characters, where a word ends
        (`word_end`), and read four times further while that holds fewer
        pieces (or no word ends there): the pieces of a huge text are never
        all made, and the first `n_pieces` are those of the whole text.
        ``head("a b " * 100_000, 8)`` is its first 129 characters (128 is
        inside a word).
        """
        reach = max(n_pieces, 1) * CHARS_PER_PIECE
        while reach < len(text):
            end = word_end(text, reach)
            if end is not None and self._count(text[:end]) >= n_pieces:
                return text[:end]
            reach *= 4
        return text

    def _count(self, text: str) -> int:
        """How many word pieces `pack` makes of `text`."""
        text = fold([text])[0] if self.lower_case else text
        return len(self._tokenizer.encode(self._limit_word_bytes(text)).ids)

    def words(self, text: str) -> list[tuple[str, tuple[int, int]]]:
        """The words `pack` finds in `text`, each with its ``(start, end)`` in `text`.

        Words are found in the text as given (before lower-casing), so the
        spans index `text` itself.
        """
        return self._tokenizer.pre_tokenizer.pre_tokenize_str(text)

    def count_pieces(self, words: Sequence[str]) -> np.ndarray:
        """Word pieces of each of `words`, as `pack` would tokenize it."""
        if self.lower_case:
            words = fold(words)
        words = [self._limit_word_bytes(w) for w in words]
        encodings = self._tokenizer.encode_batch_fast(words, add_special_tokens=False)
        return np.fromiter(map(len, encodings), np.int64, len(encodings))

    def standalone(self) -> Tokenizer:
        """A plain ``tokenizers.Tokenizer`` doing all of `pack`'s work, for export.

        It adds ``[CLS]``/``[SEP]``, type ids, truncation to
        ``max_seq_length`` and padding to the longest in a batch, so
        ``Tokenizer.from_file`` and ``encode_batch`` alone feed the graph.
        Two rules are approximated, since ``tokenizers`` cannot express them:
        case folding is NFKC, lower-casing, NFD and no accents (different
        from TF for "ß", final sigma and a few other characters), and pairs
        are trimmed longest first (TF trims round robin: when both
        segments overflow, the one kept longer may differ by a token).
        Words over 100 bytes of non-ASCII text are not made ``[UNK]``.
        """
        from tokenizers import normalizers, processors

        tokenizer = Tokenizer.from_str(self._tokenizer.to_str())
        if self.lower_case:
            tokenizer.normalizer = normalizers.Sequence(
                [
                    normalizers.NFKC(),
                    normalizers.Lowercase(),
                    normalizers.NFD(),
                    normalizers.StripAccents(),
                ]
            )
        cls, sep = ("[CLS]", self.cls_id), ("[SEP]", self.sep_id)
        tokenizer.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[cls, sep],
        )
        tokenizer.enable_truncation(self.max_seq_length)
        tokenizer.enable_padding(pad_id=self.pad_id, pad_token="[PAD]")
        return tokenizer

    def _limit_word_bytes(self, text: str) -> str:
        """`text`, or its words with those over the byte limit made [UNK]."""
        if text.isascii() or not _MAYBE_LONG_WORD.search(text):
            return text
        words = [w for w, _ in self._tokenizer.pre_tokenizer.pre_tokenize_str(text)]
        if all(len(w.encode()) <= MAX_BYTES_PER_WORD for w in words):
            return text
        return " ".join(
            _TOO_LONG if len(w.encode()) > MAX_BYTES_PER_WORD else w for w in words
        )

    def _combine(
        self, tokens: np.ndarray, token_starts: np.ndarray, kept: np.ndarray
    ) -> PackedTexts:
        """``[CLS] a [SEP] (b [SEP])`` of the first `kept` tokens of each segment."""
        n_segments, n = kept.shape
        lengths = kept.sum(axis=0) + n_segments + 1
        starts = np.cumsum(lengths) - lengths
        ids = np.empty(int(lengths.sum()), np.int64)
        ids[starts] = self.cls_id
        offset = starts + 1  # where the segment goes in ids
        for segment in range(n_segments):
            count = kept[segment]
            # Positions 0..count-1 within each example, in one arange.
            within = np.arange(int(count.sum())) - np.repeat(
                np.cumsum(count) - count, count
            )
            source = np.repeat(token_starts[segment], count) + within
            ids[np.repeat(offset, count) + within] = tokens[source]
            ids[offset + count] = self.sep_id
            offset = offset + count + 1
        # Type id 1 from the second segment's first token to its [SEP].
        second_starts = kept[0] + 2 if n_segments == 2 else lengths
        return PackedTexts(ids, starts, lengths, second_starts, self.pad_id)


def _round_robin(counts: np.ndarray, budget: int) -> np.ndarray:
    """How many tokens of each segment ``RoundRobinTrimmer`` keeps in `budget`.

    One token to each segment in turn, the first segment first: a segment
    keeps all its tokens if it fits in its share, and the other takes the
    rest. `counts` is ``[n_segments, n]``.
    """
    if len(counts) == 1:
        return np.minimum(counts, budget)
    a, b = counts
    kept_a = np.minimum(a, np.maximum(-(-budget // 2), budget - b))
    return np.stack([kept_a, np.minimum(b, budget - kept_a)])
