"""CLIP byte-level BPE tokenisation for ViCLIP's text tower.

The vocabulary cannot be downloaded here, so the user passes one of:

* the official ``bpe_simple_vocab_16e6.txt.gz`` (or its unzipped ``.txt``), shipped with
  OpenAI CLIP and with the ViCLIP repositories, or a folder holding it;
* a folder with Hugging Face CLIP tokenizer files (``tokenizer.json``, or
  ``vocab.json`` + ``merges.txt``), e.g. from ``openai/clip-vit-base-patch16``.

The BPE file is turned into the vocabulary exactly as the official tokenizer builds
it: 256 byte symbols, the same 256 with the end-of-word marker ``</w>``, one token per
merge rule (the first 48,894 rules after the header line), then ``<|startoftext|>``
and ``<|endoftext|>`` (49,408 tokens in all). The BPE itself runs in the
``tokenizers`` library through ``transformers.CLIPTokenizer``.

Token ids follow the official ``tokenize``: ``[sot] + bpe(text) + [eot]``, cut to the
context length with the last kept token replaced by ``eot``, padded with 0. Before
that, text is cleaned as the official ``basic_clean`` does (:func:`clean_text`):
``ftfy.fix_text`` where ftfy is installed (it repairs mojibake such as ``cafÃ©``;
``pip install ftfy``), then ``html.unescape`` twice (so ``&amp;`` and ``&amp;amp;``
become ``&``), then stripped; lower-casing and whitespace collapsing are done by the
tokenizer's normaliser.
"""

from __future__ import annotations

import gzip
import html
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import WeightsError

if TYPE_CHECKING:
    import torch

BPE_FILE = "bpe_simple_vocab_16e6.txt.gz"
SOT, EOT = "<|startoftext|>", "<|endoftext|>"
#: merge rules used by CLIP: vocabulary size 49408 - 2 specials - 512 byte symbols
NUM_MERGES = 49408 - 256 * 2 - 2


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible byte -> printable character table, in CLIP's symbol order.

    The 188 printable Latin-1 bytes stand for themselves and come first (in byte order);
    the other 68 bytes follow, mapped in byte order to code points 256, 257, ... The
    dict's order is the order of the first 256 vocabulary entries.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + shifted)
            shifted += 1
    return table


def vocab_from_bpe(lines: list[str], num_merges: int = NUM_MERGES) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Vocabulary and merge list from the lines of a CLIP BPE file (first line is a header)."""
    merges = [tuple(line.split()) for line in lines[1 : num_merges + 1] if line.strip()]
    bad = next((m for m in merges if len(m) != 2), None)
    if bad is not None:
        raise WeightsError(f"not a CLIP BPE merges file: line {' '.join(bad)!r} is not two symbols")
    symbols = list(bytes_to_unicode().values())
    tokens = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges] + [SOT, EOT]
    return {t: i for i, t in enumerate(tokens)}, merges  # type: ignore[return-value]


def _read_bpe(path: Path) -> list[str]:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as f:
                return f.read().split("\n")
        return path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise WeightsError(f"cannot read CLIP BPE vocabulary {path}: {exc}") from None


def load_clip_tokenizer(path: str | os.PathLike[str], what: str = "viclip") -> Any:
    """A ``transformers.CLIPTokenizer`` from a BPE file, a folder holding one, or HF tokenizer files."""
    from transformers import CLIPTokenizer

    from ..hf.models import _quiet_transformers

    p = Path(path).expanduser()
    if p.is_dir():
        if (p / "tokenizer.json").is_file() or ((p / "vocab.json").is_file() and (p / "merges.txt").is_file()):
            try:
                with _quiet_transformers():
                    return CLIPTokenizer.from_pretrained(str(p), local_files_only=True)
            except (OSError, ValueError, TypeError) as exc:
                raise WeightsError(f"{what}: cannot load the CLIP tokenizer in {p}: {str(exc).splitlines()[0]}") from None
        found = sorted(p.glob("bpe_simple_vocab*.txt*"))
        if not found:
            raise WeightsError(missing_tokenizer_message(what, p))
        p = found[0]
    if not p.is_file():
        raise WeightsError(missing_tokenizer_message(what, p))
    vocab, merges = vocab_from_bpe(_read_bpe(p))
    with _quiet_transformers():
        return CLIPTokenizer(vocab=vocab, merges=merges)


def missing_tokenizer_message(what: str, where: Path | None) -> str:
    place = f"no CLIP BPE vocabulary at {where}" if where is not None else "no CLIP BPE vocabulary found"
    return (
        f"{what}: {place}; download {BPE_FILE} (https://huggingface.co/OpenGVLab/ViCLIP-B-16-hf or "
        "https://github.com/openai/CLIP) and put it beside the weights or in $GESTUREBENCH_WEIGHTS, "
        "or pass tokenizer=PATH (the file, or a Hugging Face CLIP tokenizer folder)"
    )


def clean_text(text: str) -> str:
    """The official ``basic_clean``: ftfy's repair (if installed), HTML entities decoded twice, stripped."""
    try:
        import ftfy
    except ImportError:
        pass
    else:
        text = ftfy.fix_text(text)
    return html.unescape(html.unescape(text)).strip()


def tokenize(tokenizer: Any, texts: list[str], context_length: int) -> torch.Tensor:
    """Official ViCLIP token ids: (N, context_length) int64, ``[sot] text [eot]`` then zeros."""
    import torch

    sot = tokenizer.convert_tokens_to_ids(SOT)
    eot = tokenizer.convert_tokens_to_ids(EOT)
    out = torch.zeros(len(texts), context_length, dtype=torch.long)
    for i, text in enumerate(texts):
        ids = [sot, *tokenizer.encode(clean_text(text), add_special_tokens=False), eot]
        if len(ids) > context_length:
            ids = ids[:context_length]
            ids[-1] = eot
        out[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return out
