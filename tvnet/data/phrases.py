"""Words that are part of a fixed phrase, never read alone (docs/design.md §6, "Wording").

"in front of" is one preposition: its "front", read alone as the noun WordNet makes a kind
of "side", turns "the star in front of the circle" into "the star in side of the circle",
which says something else, silently. WordNet lists such phrases as multiword adverbs
("in_front", "close_to", "in_the_end"). :func:`phrase_words` marks each word the model does
not know that, with the words next to it, forms one; :class:`tvnet.data.lexicon.Lexicon`
leaves those as written, so the model reads the phrase as MiniLM does and the answer warns
that the model never met the word. Only adverbs: a multiword noun ("sea star", "ice
cream") may just as well be a modifier and a noun ("the sea star" of a sea-blue star).
"""

from __future__ import annotations

from collections.abc import Sequence

from tvnet.data.wordnet import WordNet

LONGEST = 3  # words in the longest phrase looked up ("in_the_end"; WordNet's run longer, rarely)


def phrase_words(
    words: Sequence[str], gaps: Sequence[str], wordnet: WordNet, known: frozenset[str]
) -> list[bool]:
    """For each of ``words`` (``gaps[i]``: the text before word i): is it a word outside
    ``known`` (lower-case) that, with its neighbours and nothing but spaces between, forms a
    multiword adverb of WordNet, or a hyphenated word with a part outside ``known`` that is
    one ("in-front")?"""
    out = [False] * len(words)
    for i, w in enumerate(words):  # written as one word: "in-front"
        parts = w.lower().split("-")
        if len(parts) > 1 and not all(p in known for p in parts):
            out[i] = bool(wordnet.offsets("_".join(parts), "r"))
    for i in range(len(words)):
        for n in range(2, LONGEST + 1):
            j = i + n
            if j > len(words) or any(g.strip() or not g for g in gaps[i + 1 : j]):
                break  # punctuation (or nothing: "in-front" is one word) ends a phrase
            span = words[i:j]
            if all(w.lower() in known for w in span):
                continue
            if wordnet.offsets("_".join(span), "r"):
                for k in range(i, j):
                    out[k] = out[k] or words[k].lower() not in known
    return out
