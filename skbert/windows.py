"""Long texts read whole: windows of word pieces, and pooling over them.

With ``long_texts="chunks"`` an estimator cuts each text into windows of at
most ``max_seq_length - 2`` word pieces (room for ``[CLS]`` and ``[SEP]``),
consecutive windows sharing ``stride`` word pieces. A window is a substring
of the text, cut between words, so it tokenizes to the same word pieces as
in the whole text and goes through the network as any text does (the
feature store keeps windows as it keeps texts). Each window runs through the
whole network, and the outputs of a text's windows (logits, or embeddings)
are pooled, mean or max, into the text's: in training as in prediction.
A text of at most ``max_seq_length - 2`` word pieces is one window, itself.

A text longer than `LONG_TEXT` characters read in ``max_windows`` windows
is not tokenized whole: its windows start at evenly spaced characters (at
the next word), the first at its start, the last ending at its end, and
only the words they need are tokenized (`sampled_windows`). So the memory a
huge text takes is that of its windows. This module imports no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skbert.wordpiece import _WORD_END, CHARS_PER_PIECE, word_end

#: The ways of reading texts longer than ``max_seq_length``.
LONG_TEXTS = ("truncate", "chunks")
#: How the outputs of a text's windows become the text's.
WINDOW_POOLINGS = ("mean", "max")
#: The network input naming each window's text in a batch of windows.
WINDOW_OWNER = "window_owner"
#: Characters from which a text read in at most ``max_windows`` windows has
#: them placed by characters (`sampled_windows`), not by word pieces.
LONG_TEXT = 100_000


@dataclass(frozen=True)
class Windows:
    """The windows of a batch of texts.

    Attributes
    ----------
    texts : ndarray of object
        Every window, text after text.
    owner : ndarray of int64
        For each window, the position of its text in the batch.
    counts : ndarray of int64
        Windows per text (at least one).
    """

    texts: np.ndarray
    owner: np.ndarray
    counts: np.ndarray

    @property
    def starts(self) -> np.ndarray:
        """Where each text's windows start in `texts`."""
        return np.cumsum(self.counts) - self.counts


def window_stride(stride: int | None, max_seq_length: int) -> int:
    """The overlap in word pieces: `stride`, or a quarter of a window if None.

    `ValueError` if it leaves no room to move on.
    """
    size = max_seq_length - 2
    overlap = size // 4 if stride is None else stride
    if not 0 <= overlap < size:
        raise ValueError(
            f"stride={stride} must be at least 0 and less than the window of "
            f"max_seq_length - 2 = {size} word pieces; lower it (or raise "
            "max_seq_length)."
        )
    return overlap


def split_windows(
    texts,
    tokenizer,
    max_seq_length: int,
    stride: int,
    max_windows: int | None = None,
) -> Windows:
    """Cut each of `texts` into windows of at most ``max_seq_length - 2`` pieces.

    Parameters
    ----------
    texts : sequence of str
    tokenizer : skbert.wordpiece.WordPieceTokenizer
        The encoder's tokenizer: it finds the words and counts their pieces.
    max_seq_length : int
        Packed length of a window, ``[CLS]`` and ``[SEP]`` included.
    stride : int
        Word pieces that consecutive windows share (`window_stride`).
    max_windows : int, optional
        Most windows per text; a text with more keeps this many, evenly
        spaced from its first window to its last. Those of a text over
        `LONG_TEXT` characters are spaced by characters (`sampled_windows`).

    Returns
    -------
    Windows

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skbert.default_plugins.tiny_random import vocabulary
    >>> from skbert.wordpiece import WordPieceTokenizer
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     vocab_file = Path(tmp) / "vocab.txt"
    ...     _ = vocab_file.write_text("\\n".join(vocabulary()), encoding="utf-8")
    ...     tokenizer = WordPieceTokenizer(vocab_file)
    >>> windows = split_windows(["a b c d e f g", "a b"], tokenizer, 6, stride=1)
    >>> windows.texts.tolist(), windows.owner.tolist()
    (['a b c d', 'd e f g', 'a b'], [0, 0, 1])

    A text over `LONG_TEXT` characters, in words of 6 pieces:

    >>> long_text = " ".join(f"{i:06}" for i in range(100_000))
    >>> split_windows([long_text], tokenizer, 14, 2, max_windows=3).texts.tolist()
    ['000000 000001', '050000 050001', '099998 099999']
    """
    size = max_seq_length - 2
    sampled = {
        i: sampled_windows(text, tokenizer, size, max_windows)
        for i, text in enumerate(texts)
        if max_windows is not None and len(text) > LONG_TEXT
    }
    pieces, spans = [], []
    for i, text in enumerate(texts):
        words = [] if i in sampled else tokenizer.words(text)
        spans.append(np.array([span for _, span in words], dtype=np.int64))
        pieces.append([word for word, _ in words])
    counts = tokenizer.count_pieces([w for ws in pieces for w in ws])
    out, owner, per_text = [], [], []
    offset = 0
    for i, text in enumerate(texts):
        if i in sampled:
            out += sampled[i]
            owner += [i] * len(sampled[i])
            per_text.append(len(sampled[i]))
            continue
        n = len(pieces[i])
        cuts = _window_words(counts[offset : offset + n], size, stride)
        offset += n
        if max_windows is not None and len(cuts) > max_windows:
            keep = np.linspace(0, len(cuts) - 1, max_windows).round().astype(int)
            cuts = [cuts[k] for k in keep]
        if n == 0 or len(cuts) == 1:
            out.append(text)
        else:
            span = spans[i]
            out += [text[span[a, 0] : span[b - 1, 1]] for a, b in cuts]
        owner += [i] * max(1, len(cuts))
        per_text.append(max(1, len(cuts)))
    texts_out = np.empty(len(out), dtype=object)
    texts_out[:] = out
    return Windows(
        texts_out, np.array(owner, dtype=np.int64), np.array(per_text, dtype=np.int64)
    )


def sampled_windows(text: str, tokenizer, size: int, max_windows: int) -> list[str]:
    """`max_windows` windows of `size` word pieces, spread over `text`'s characters.

    Window k starts at the first word at or after character ``k * len(text)
    // (max_windows - 1)`` and takes the words that fit in `size` pieces;
    the last takes the words before the end that fit. Only the words near
    each window's start are tokenized, so the cost does not grow with the
    text. Windows overlap only if the text holds few pieces for its length.
    `split_windows` shows an example.
    """
    starts = [k * len(text) // max(1, max_windows - 1) for k in range(max_windows)]
    windows = [_window_from(text, start, tokenizer, size) for start in starts[:-1]]
    if max_windows == 1:
        return [_window_from(text, 0, tokenizer, size)]
    return windows + [_window_to_end(text, tokenizer, size)]


def _words_between(text: str, start: int, stop: int, tokenizer):
    """The ``(start, end)`` of each word of ``text[start:stop]`` in `text`, pieces."""
    words = tokenizer.words(text[start:stop])
    spans = np.array([span for _, span in words], np.int64).reshape(-1, 2) + start
    return spans, tokenizer.count_pieces([word for word, _ in words])


def _word_start(text: str, position: int) -> int:
    """`position` if a word may start there, else the next word end (or itself)."""
    if position == 0 or _WORD_END.match(text, position - 1):
        return position
    return word_end(text, position) or position


def _window_from(text: str, position: int, tokenizer, size: int) -> str:
    """The words from the first at or after `position` that fit in `size` pieces."""
    start = _word_start(text, position)
    reach = size * CHARS_PER_PIECE
    while True:
        stop = min(len(text), word_end(text, start + reach) or start + reach)
        spans, counts = _words_between(text, start, stop, tokenizer)
        if counts.sum() > size or stop >= len(text):
            break
        reach *= 4
    if not len(counts):
        return text[start:stop]
    end = max(1, int(np.searchsorted(np.cumsum(counts), size, "right")))
    return text[spans[0, 0] : spans[end - 1, 1]]


def _window_to_end(text: str, tokenizer, size: int) -> str:
    """The last words of `text` that fit in `size` pieces."""
    reach = size * CHARS_PER_PIECE
    while True:
        start = _word_start(text, max(0, len(text) - reach))
        spans, counts = _words_between(text, start, len(text), tokenizer)
        if counts.sum() > size or start == 0:
            break
        reach *= 4
    if not len(counts):
        return text[start:]
    first = max(1, int(np.searchsorted(np.cumsum(counts[::-1]), size, "right")))
    return text[spans[-first, 0] : spans[-1, 1]]


def _window_words(counts: np.ndarray, size: int, stride: int) -> list[tuple]:
    """``(first, end)`` word ranges of the windows over words of `counts` pieces.

    A window starts at the first word at or after its piece offset (``k *
    (size - stride)``) and takes the words that fit in `size` pieces (one at
    least: a longer word is truncated when packed); the last ends at the
    last word.
    """
    n = len(counts)
    if n == 0 or counts.sum() <= size:
        return [(0, n)]
    ends = np.cumsum(counts)
    starts = ends - counts
    cuts, first = [], 0
    while True:
        end = max(first + 1, int(np.searchsorted(ends, starts[first] + size, "right")))
        cuts.append((first, end))
        if end >= n:
            return cuts
        target = starts[first] + size - stride
        first = max(first + 1, int(np.searchsorted(starts, target, "left")))
        first = min(first, end)


def pool_windows(outputs: np.ndarray, windows: Windows, mode: str) -> np.ndarray:
    """Each text's row: the `mode` ("mean" or "max") of its windows' rows."""
    starts = windows.starts
    if mode == "max":
        return np.maximum.reduceat(outputs, starts, axis=0)
    sums = np.add.reduceat(outputs.astype(np.float64), starts, axis=0)
    return (sums / windows.counts[:, None]).astype(outputs.dtype)
