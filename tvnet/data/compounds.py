"""Hyphenated words: how the lexicon reads a compound (docs/design.md §6, "Wording").

A compound the model does not know is read whole first (WordNet writes some of them, open or
closed: "sky-blue", "crisscross"); "X-coloured" as X's colour
(:meth:`~tvnet.data.glosses.Glosses._coloured`); a word of its own that WordNet relates to
nothing known is left as written; otherwise part by part, and a compound with one known part
that names a thing, the rest related to nothing known, as that part ("burnt-orange" →
orange; :meth:`Compounds._compound_head`).
"""

from __future__ import annotations

from tvnet.data.glosses import COLOUR_SUFFIXES, basic_colour_terms
from tvnet.data.heads import GENERIC

# parts of a compound that turn its known part's meaning around (:meth:`Compounds._compound_head`)
# (or make it a part or an imitation of it: "half-circle", "fake-star" are not that thing)
COMPOUND_NEGATIONS = frozenset(
    {"non", "not", "no", "un", "anti", "never", "free", "less", "without", "pseudo", "faux", "ex",
     "half", "semi", "fake", "mock", "quasi", "sub"}
)  # fmt: skip
# second parts after which a known first part still names the thing: "star-shaped",
# "red-tinted", "small-sized" (an English compound's head is its last part; after any other,
# "second-last", "square-patterned", "checked-off", the known first part is only a modifier)
COMPOUND_SUFFIXES = COLOUR_SUFFIXES | frozenset(
    "shaped shape like looking ish esque y ey tone tint hue sized size type style".split()
)


class Compounds:
    """The compounds half of :class:`tvnet.data.lexicon.Lexicon` (its attributes below)."""

    known: frozenset[str]
    compound_heads: bool
    colour_positions: bool
    er_compounds: bool  # "six-sider" read as "six-sided" (:meth:`_er_compound`)

    def nearest(self, word: str, misspelt: bool = True) -> str | None:  # pragma: no cover
        raise NotImplementedError  # the lexicon's

    def _compound(
        self, token: str, parts: list[str], rewrites: list[tuple[str, str]], misspelt: bool
    ) -> str:
        """What the model reads for the hyphenated ``token`` (its ``parts``), appending to
        ``rewrites`` (see the module's notes)."""
        if all(p.lower() in self.known for p in parts):
            return token  # "blue-green": the model reads both words
        joined = token.replace("-", "").lower()  # WordNet writes some closed: "crisscross"
        whole = self.nearest(token, misspelt) or self.nearest(joined, misspelt=False)
        if whole is None and self.er_compounds:
            whole = self._er_compound(token)
        if whole is not None:
            rewrites.append((token, whole))
            return whole
        coloured = self._coloured(parts)  # "banana-coloured": the colour of a banana
        if coloured is not None:
            rewrites.append((token, coloured))
            return coloured
        if self._content(token.lower()) or self._content(joined):  # a word of its own
            return token  # that WordNet relates to nothing known: its parts would mislead
            # ("topsy-turvy", "criss-cross")
        read, by_part = [], []
        for p in parts:  # a part of a compound is a modifier: never left out
            new = None if p.lower() in self.known else self.nearest(p, misspelt)
            if new is not None:
                by_part.append((p, new))
            read.append(new or p)
        if self.colour_positions and any(self.surveyed(p) for p in parts):
            # a survey colour beside a basic colour term modifies it: "brick-red" is red
            if any(p.lower() in basic_colour_terms() for p in parts):
                read = [p if self.surveyed(p) else r for p, r in zip(parts, read)]
                by_part = [(p, n) for p, n in by_part if not self.surveyed(p)]
        head = self._compound_head(parts, read) if self.compound_heads else None
        if head is not None:
            rewrites.append((token, head))
            return head
        rewrites.extend(by_part)
        return "-".join(read)

    def _er_compound(self, token: str) -> str | None:
        """A noun "N-Xer" that WordNet lacks, read as the adjective "N-Xed" that it has
        ("six-sider" as "six-sided", hexagon; "five-pointer" as "five-pointed", star): the
        thing that has what the adjective says."""
        low = token.lower()
        if not low.endswith("er") or self._content(low):
            return None
        adjective = low[:-2] + "ed"  # "six-sid-er" → "six-sid-ed", "point-er" → "point-ed"
        if adjective in self.known:
            return adjective
        if self.wordnet.offsets(adjective, "a"):
            return self.nearest(adjective, misspelt=False)
        return None

    def _compound_head(self, parts: list[str], read: list[str]) -> str | None:
        """The one known word a hyphenated compound names, when WordNet has the compound as
        no word of its own: one part is a known word as written that names a thing or an
        attribute, and WordNet relates every other part to nothing known (``read``: each part
        as :meth:`_compound` read it). "burnt-orange" → orange, "bone-white" → white, "new-moon"
        → moon: the other parts narrow or compare what the known one names (a shade, a
        likeness), which this model cannot read anyway. None when a part turns the meaning
        around ("non-red", "dot-free"), when the known part is a generic noun ("one-colour"
        is not "one") or names no thing ("filled-in"), when another part was read as some
        known word ("party-hat": hat → circle, the head is the hat), or when the known part
        comes first and the last, the head, is not one of :data:`COMPOUND_SUFFIXES`
        ("second-last" is not "second"; "star-shaped" is "star")."""
        if len(parts) > 2 or any(p.lower() in COMPOUND_NEGATIONS for p in parts):
            return None  # three parts are a phrase ("second-to-last"), not a modifier and a head
        written = [p for p in parts if p.lower() in self.known]
        if len(written) != 1 or any(
            r != p for p, r in zip(parts, read) if p.lower() not in self.known
        ):
            return None
        head = written[0].lower()
        if head in GENERIC or not self._names_thing(head):
            return None
        if parts[0].lower() == head and parts[1].lower() not in COMPOUND_SUFFIXES:
            return None
        return head

    def compound(self, word: str, read: str) -> bool:
        """Is the pair (``word``, ``read``) of :meth:`rewrite` a compound read as one of its
        parts ("bright-red" as "red", also "sky-blue" as "blue" through WordNet)?"""
        return "-" in word and read.lower() in {p.lower() for p in word.split("-")}
