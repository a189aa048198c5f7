"""What a WordNet definition says a word is (docs/design.md §6, "Wording").

When no relation in WordNet leads from a word to a known one, its definition (gloss) often
still names it in known words. :class:`~tvnet.data.lexicon.Lexicon` reads three kinds of them:

- the kind of colour or shape (:func:`genus_words`): "of a pale purple color", "a shade of
  blue", "very rich flaky crescent-shaped roll", "shaped like a star";
- the thing whose colour a word is (:func:`colour_objects`): "having the … color of gold",
  "resembling milk in color", read as the colour that thing's own definition names ("milk": "a
  white nutritious liquid"), and so also the first part of "banana-coloured";
- the thing the definition says the word is or has (:func:`head_nouns`):
  - for a noun, the head of its defining noun phrase ("a very small spot": spot) and what
    it usually is ("a flat metal piece (usually a disc) used as money": piece, disc);
  - for an adjective that describes a surface by what it has, the noun it has ("having very
    thin stripes": stripes; "having spots or patches of color": spots, patches; "marked with
    or as if with stripes": stripes).

:func:`genus_words` and :func:`head_nouns` find the words; :class:`Glosses`, a part of the
lexicon, decides which of them stand for a known word.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from tvnet.data.gloss_counts import counted, counts
from tvnet.data.heads import GENERIC, PLACE_WORDS
from tvnet.data.wordnet import MIN_LEN, WordNet, tag_count

# a definition's genus for colours and shapes (WordNet writes "a shade of X", "X-shaped")
GENUS = tuple(
    re.compile(p)
    for p in (
        r"\b([a-z]+) (?:colou?r|shade|hue|tint)\b",
        r"\b(?:shade|tint|hue) of ([a-z]+)\b",
        r"\b([a-z]+)-shaped\b",
        r"\b(?:shaped|formed) like an? ([a-z]+)\b",
    )
)
_X_SHAPED = 2  # the GENUS pattern "X-shaped"
# what a definition says a word has the colour of: "the color of gold", "resembling milk in color"
_COLOUR_OF = (
    re.compile(r"\bcolou?r of ([^;,()]*)"),
    re.compile(r"\bresembling ([^;,()]*?) in colou?r\b"),
)
# the second part of a compound that makes its first part a colour: "banana-coloured"
COLOUR_SUFFIXES = frozenset("coloured colored colour color toned tinted hued".split())
# how an adjective's definition says what a surface has ("having stripes", "marked with dots")
_HAS = re.compile(
    r"^(?:having|bearing|showing|with|full of|"
    r"(?:marked|covered|decorated|patterned|streaked|spotted|dotted) (?:with|by|in)"
    r"(?: or as if with)?) "
)
# what a noun usually is, in parentheses, as a noun phrase: "(usually a disc)", "(especially a
# white stripe …)"; not an adjective ("(usually square or hexagonal)")
_USUALLY = re.compile(r"\((?:usually|often|typically|especially) ((?:an?|the) [^)]*)")
_PARENTHESES = re.compile(r"\([^)]*\)")
# a domain label opening a definition: "(baseball) base consisting of …"
_LABEL = re.compile(r"^\([^)]*\)\s*")
_DETERMINERS = frozenset("a an the any one some".split())
# words after which a noun phrase's head has been passed: prepositions, relatives, participles
# that start a modifier ("a piece used as money", "a board having 64 squares")
_AFTER_HEAD = frozenset(
    (
        "of that which who whose where when with without for in on at by from to as into "
        "than like around about between having consisting made used worn drawn containing "
        "resembling especially usually typically often is are was"
    ).split()
)
_TOKEN = re.compile(r"[a-z]+(?:-[a-z]+)*|[^a-z\s]")
_BE = frozenset("is are was were be been being".split())


@functools.cache
def basic_colour_terms() -> frozenset[str]:
    """The basic colour terms (Berlin & Kay's eleven, as the survey's code lists them, with
    its other spellings), whether a model knows them or not."""
    from tvnet.data.colour_names import BASIC_TERMS, SPELLINGS  # numpy: on demand

    return frozenset((*BASIC_TERMS, *SPELLINGS))


def colour_objects(gloss: str) -> list[str]:
    """The things whose colour ``gloss`` says its word has, each the head of its noun phrase
    ("having the … color of gold": gold; "the color of dark chocolate": chocolate;
    "resembling milk in color": milk)."""
    gloss = gloss.lower()
    out = []
    for pat in _COLOUR_OF:
        for m in pat.finditer(gloss):
            out += _heads(_TOKEN.findall(m.group(1)))[:1]
    return list(dict.fromkeys(out))


def genus_words(gloss: str, ish: bool = True, noun: bool = False) -> list[str]:
    """The words that ``gloss`` names as the kind of colour or shape, in order, each also
    without "-ish" ("purplish": purple) unless not ``ish``. ``noun``: a noun's definition,
    whose "X-shaped" counts only in its defining noun phrase, before its head ("very rich
    flaky crescent-shaped roll": crescent), not in what the thing has ("plant with
    heart-shaped trifoliate leaves" does not make a shamrock a heart); "shaped like a X"
    counts anywhere ("a revolving stone shaped like a disk")."""
    gloss = gloss.lower()
    phrase: set[str] | None = None  # the defining phrase's tokens, read at the first "X-shaped"
    out = []
    for i, pat in enumerate(GENUS):
        for m in pat.finditer(gloss):
            if noun and i == _X_SHAPED:
                if phrase is None:
                    phrase = set(_phrase(_TOKEN.findall(_LABEL.sub("", gloss.strip()))))
                if not any(t.endswith(m.group(0)) for t in phrase):
                    continue  # "half-moon-shaped" holds "moon-shaped"
            for w in (m.group(1), m.group(1).removesuffix("ish")) if ish else (m.group(1),):
                if w not in out:
                    out.append(w)
    return out


def colour_terms(gloss: str, terms: frozenset[str] | set[str], anywhere: bool = False) -> list[str]:
    """The ``terms`` (colour terms) that a noun's definition ``gloss`` names as whole words
    before its head, the colour of the thing itself ("elongated crescent-shaped yellow fruit":
    yellow; not "an element that gives a red glow"), in order; of a hyphenated colour its last
    part, the colour it names ("yellow-brown": brown); "reddish" is not red.

    ``anywhere`` (:meth:`Glosses._object_colour` for a thing named where a colour stands):
    after the head too, outside parentheses ("… plants having showy often yellow flowers");
    none where the first colour is one of alternatives ("white or yellow or purple flowers",
    "golden or orange-red"); and "black-and-white" names both colours, in order."""
    text = _LABEL.sub("", gloss.lower().strip())
    if anywhere:
        tokens = _TOKEN.findall(_PARENTHESES.sub(" ", text))
        for i, token in enumerate(tokens):
            if token.split("-")[-1] in terms:  # the first colour named decides
                if "or" in tokens[max(0, i - 1) : i] + tokens[i + 1 : i + 2]:
                    return []
                break
    else:
        tokens = _phrase(_TOKEN.findall(text))
    out = []
    for token in tokens:
        parts = token.split("-")
        if anywhere and ("and" in parts or "or" in parts):  # "black-and-white": both, in order
            out += [p for p in parts if p in terms]
        elif parts[-1] in terms:
            out.append(parts[-1])
    return out


def _phrase(tokens: list[str]) -> list[str]:
    """The words of the noun phrase that ``tokens`` open, up to its head (see :func:`_heads`)."""
    out = []
    for t in tokens:
        if t in _AFTER_HEAD or not t[0].isalpha():
            break
        out.append(t)
    return out


def _heads(tokens: list[str]) -> list[str]:
    """The head nouns of the noun phrase that ``tokens`` open: the word before the first
    preposition, relative, modifier participle or punctuation, and before each "or"/"and"
    inside it ("spots or patches of color": spots, patches)."""
    while tokens and tokens[0] in _DETERMINERS:
        tokens = tokens[1:]
    heads, last = [], None
    for t in tokens:
        if t in ("or", "and"):
            if last is not None:
                heads.append(last)
            last = None
            continue
        if t in _AFTER_HEAD or not t[0].isalpha():
            break
        if t in _DETERMINERS:
            continue
        last = t
    if last is not None:
        heads.append(last)
    return heads


def head_nouns(gloss: str, pos: str) -> list[str]:
    """The nouns that definition ``gloss`` of a word used as ``pos`` ("n", or "a" for an
    adjective) says the word is or has, in order (see the module's notes); none for an
    adjective whose definition says nothing it has ("of a pale purple color")."""
    gloss = _LABEL.sub("", gloss.lower().strip())
    out: list[str] = []
    if pos == "n":  # the head outside parentheses: "a small (usually square) metal block"
        out += _heads(_TOKEN.findall(_PARENTHESES.sub(" ", gloss)))
        for m in _USUALLY.finditer(gloss):
            out += _heads(_TOKEN.findall(m.group(1)))
    else:
        m = _HAS.match(gloss)
        if m:
            out += _heads(_TOKEN.findall(gloss[m.end() :]))
    return list(dict.fromkeys(out))


# words of a definition that say nothing of how a thing looks, or only where it is ("having a
# pattern" says no pattern: a model that knows "pattern" from "a checkered pattern" reads one)
SAYS_NOTHING = frozenset(GENERIC) | frozenset("shape form figure kind type sort pattern".split())
_EMPTY = SAYS_NOTHING | PLACE_WORDS


class Glosses:
    """The definitions half of :class:`tvnet.data.lexicon.Lexicon` (its attributes below).
    A definition's words are read with ``nested`` set, passed down rather than kept on the
    lexicon, which threads share: such a reading follows no further definition."""

    known: frozenset[str]
    wordnet: WordNet
    by_base: dict[str, str]
    glosses: bool
    colours: bool
    gloss_heads: bool
    colour_objects: bool
    counting: bool
    shape_phrase: bool  # a noun's "X-shaped" only before its head (:func:`genus_words`)
    _home: dict[str, frozenset[tuple[int, str]]]
    _counts: dict[tuple[int, str], list[tuple[str, bool]]] | None
    _markings: dict[str, bool]  # :meth:`_is_marking`'s answers
    _no_pattern: set[str]  # tokens :meth:`_pattern_word` found no pattern in
    _patterns: dict[str, str | None]  # :meth:`_object_pattern`'s answers

    def _nearest(self, word: str, nested: bool = False) -> str | None:  # pragma: no cover
        raise NotImplementedError  # the lexicon's

    def _content(self, word: str) -> bool:  # pragma: no cover - the lexicon's
        raise NotImplementedError

    def _senses(self, form: str, pos: str) -> list[tuple[int, int]]:  # pragma: no cover
        raise NotImplementedError  # the lexicon's

    def _colour(self, word: str) -> str | None:  # pragma: no cover - the lexicon's
        raise NotImplementedError

    def _genus(self, offset: int, pos: str, nested: bool = False) -> tuple[int, int, str] | None:
        """A known word that the definition names as the kind of colour or shape ("a shade of
        blue", "crescent-shaped", "shaped like a star"), counted as two steps away, as
        written; with ``gloss_heads`` also an inflection of it or, unless ``nested``, its
        nearest known word by WordNet (:meth:`_gloss_word`). With ``colour_objects``, after
        the kinds named as written and before the others, the colour of the thing whose colour
        it says the word has ("the color of gold": :meth:`_object_colour`), unless the
        definition's own first colour term is one the model does not know. Failing all those
        (``gloss_heads``), a known word or inflection that the definition says the word is or
        has ("a very small spot", "having very thin stripes"), three steps away."""
        gloss = self.wordnet.synset(offset, pos).gloss
        if self.gloss_heads or self.colour_objects:
            noun = pos == "n" and self.shape_phrase
            for w in genus_words(gloss, ish=False, noun=noun):  # "a shade of", "brown color"
                if w in self.known and w not in _EMPTY and self._content(w):
                    return 2, 0, w
        things = colour_objects(gloss)
        if self.colour_objects:
            # not when the definition's own colour is one the model does not know: "tan", "a
            # light brown the color of topaz", is no yellow (nor topaz's nearest word)
            named = colour_terms(gloss, basic_colour_terms()) if things else []
            if not named or named[0] in self.known:
                for w in things:
                    k = self._object_colour(w, nested)
                    if k is not None:
                        return 2, 0, k
        elif self.gloss_heads:  # as on 2026-12-06 before colour_objects: X's nearest word
            for w in things:
                k = self._gloss_word(w, follow=True, head=False, nested=nested)
                if k is not None:
                    return 2, 0, k
        for w in genus_words(gloss, noun=pos == "n" and self.shape_phrase):
            k = self._gloss_word(w, follow=self.gloss_heads, head=False, nested=nested)
            if k is not None:
                return 2, 0, k
        if self.gloss_heads:
            for i, w in enumerate(head_nouns(gloss, "n" if pos == "n" else "a")):
                k = self._gloss_word(w, follow=False, head=True, nested=nested)
                if k is not None:
                    return 3, i, k
        return None

    def _counted(self, offset: int, pos: str) -> tuple[int, int, str] | None:
        """(2, 0, word) for the one known noun whose definition (in a sense the model uses it
        in) makes the count that an adjective's definition makes: "six-sided" ("having six
        sides") → hexagon ("a six-sided polygon"); "five-pointed" ("having five points") → star
        ("a plane figure with 5 or more points"). None where several make it ("four-sided":
        the square's four equal sides, the rhombus's) or none does."""
        count = counted(self.wordnet.synset(offset, pos).gloss) if pos == "a" else None
        if count is None:
            return None
        if self._counts is None:  # once: the counts the known nouns' definitions make
            table: dict[tuple[int, str], list[tuple[str, bool]]] = {}
            for w in sorted(self.known):
                home = self._home.get(w)
                for off in self.wordnet.offsets(w, "n"):  # every sense, unless restricted
                    if home is None or (off, "n") in home:
                        for n, thing, more in counts(self.wordnet.synset(off, "n").gloss):
                            table.setdefault((n, thing), []).append((w, more))
            self._counts = table
        n, thing = count
        found = {
            w
            for (m, t), ws in self._counts.items()
            if t == thing
            for w, more in ws
            if m == n or (more and n > m)
        }
        return (2, 0, found.pop()) if len(found) == 1 else None

    def _object_colour(self, word: str, nested: bool = False, anywhere: bool = False) -> str | None:
        """The known basic colour term that names the colour of the thing ``word``, where a
        word is said to have that thing's colour ("X-coloured", "the color of X"):
        - the word itself, when it is such a term;
        - unless ``nested``, the term WordNet reads it as (once, not through its own
          definition's words);
        - with ``colours``, the survey's term for it as a colour name ("grape": purple; "sky":
          blue);
        - else the first basic colour term its noun senses' definitions name as a whole word
          ("banana": "elongated crescent-shaped yellow fruit", not the crescent its shape
          reads; "milk": "a white nutritious liquid"; "reddish" is not red; of "yellow-brown"
          brown). A term the model does not know there is no answer: a later known one would
          be another colour ("tan": "a light brown the color of topaz" is not yellow)."""
        terms = basic_colour_terms()
        if word in terms:
            return word if word in self.known else None
        if not nested:
            k = self._nearest(word, nested=True)
            if k in terms:
                return k
        if self.colours and len(word) >= MIN_LEN:
            k = self._colour(word)
            if k is not None:
                return k
        for gloss in self._noun_glosses(word):
            if anywhere and self._names_marking(gloss):
                continue  # "… white coat with black or brown spots": a pattern, no colour
            named = colour_terms(gloss, terms, anywhere)
            if named:
                return named[0] if named[0] in self.known else None
        return None

    def _names_marking(self, gloss: str) -> bool:
        """Does ``gloss`` name a marking: a noun with a sense within two hypernyms of WordNet's
        "marking" ("spots", "stripes", "streaks"), so that the thing it defines is patterned
        (a dalmatian, measles) rather than of one colour?"""
        for token in _TOKEN.findall(gloss.lower()):
            if any(self._is_marking(f) for f in self.wordnet.base_forms(token, "n")):
                return True
        return False

    def _object_pattern(self, word: str) -> str | None:
        """The known word for the first pattern that a definition of the thing ``word`` names
        (:meth:`_pattern_word`), in the senses people use it in, parentheses included:
        "ladybug": "small round bright-colored and spotted beetle …" → spotted; "dalmatian":
        "… white coat with black or brown spots" → spots; "seersucker": "a light puckered
        fabric (usually striped)" → striped; "ocelot": "… dark-spotted buff-brown coat" →
        spotted. Not a word after a form of "be", a verb there ("checkroom": "… where
        parcels are checked"). Remembered per word."""
        if word not in self._patterns:
            if len(self._patterns) > 65536:  # bounded, as the lexicon's other caches
                self._patterns.clear()
            self._patterns[word] = self._first_pattern(word)
        return self._patterns[word]

    def _first_pattern(self, word: str) -> str | None:
        """:meth:`_object_pattern` before it is remembered."""
        for gloss in self._noun_glosses(word):
            tokens = _TOKEN.findall(gloss.lower())
            for i, token in enumerate(tokens):
                if i and tokens[i - 1] in _BE:  # a verb: "… where parcels are checked"
                    continue
                # of a hyphenated word its last part: "… dark-spotted buff-brown coat"
                k = self._pattern_word(token.split("-")[-1])
                if k is not None:
                    return k
        return None

    def _noun_glosses(self, word: str) -> Iterator[str]:
        """The definitions of the noun senses people use ``word`` or its base form in, in
        order (:meth:`_object_colour`, :meth:`_object_pattern`)."""
        for form in dict.fromkeys((word, *self.wordnet.base_forms(word, "n"))):
            for _, offset in self._senses(form, "n"):
                yield self.wordnet.synset(offset, "n").gloss

    def _pattern_word(self, token: str) -> str | None:
        """The known word that ``token`` is, as written or as its singular ("spots" for a
        model that knows "spot"), when it names a pattern: a marking in the plural
        (:meth:`_is_marking`: spots, stripes; "in one spot" is a place) or an adjective under
        WordNet's "patterned" (striped, spotted, checked); else None."""
        if len(token) < MIN_LEN or token in self._no_pattern:
            return None
        forms = [token, *self.wordnet.base_forms(token, "n")]
        known = next((f for f in forms if f in self.known), None)
        if known is not None:
            if self._patterned(token):
                return known
            plural = [f for f in forms[1:] if f != token]  # "in one spot" is a place
            if any(self._is_marking(f) for f in plural):  # a marking named in the plural
                return known
        self._no_pattern.add(token)
        return None

    def _patterned(self, adjective: str) -> bool:
        """Is ``adjective`` a satellite of WordNet's "patterned" in one of its senses?"""
        for offset in self.wordnet.offsets(adjective, "a"):
            for sym, o, _ in self.wordnet.synset(offset, "a").pointers:
                if sym == "&" and "patterned" in self.wordnet.synset(o, "a").words:
                    return True
        return False

    def _is_marking(self, noun: str) -> bool:
        """Has ``noun`` a sense within two hypernym steps of WordNet's "marking"? (Cached.)"""
        if noun not in self._markings:
            frontier, found = [(o, 0) for o in self.wordnet.offsets(noun, "n")], False
            while frontier and not found:
                offset, depth = frontier.pop()
                ss = self.wordnet.synset(offset, "n")
                found = "marking" in ss.words
                if depth < 2:
                    frontier += [
                        (o, depth + 1) for sym, o, q in ss.pointers if sym == "@" and q == "n"
                    ]
            self._markings[noun] = found
        return self._markings[noun]

    def _coloured(self, parts: list[str]) -> str | None:
        """The colour a compound "X-coloured" names (:data:`COLOUR_SUFFIXES`), X unknown:
        X's colour (:meth:`_object_colour`; "banana-coloured" → yellow), with ``glosses`` and
        ``colour_objects``."""
        if not (self.glosses and self.colour_objects) or len(parts) != 2:
            return None
        first, second = parts[0].lower(), parts[1].lower()
        if second not in COLOUR_SUFFIXES or first in self.known:
            return None
        return self._object_colour(first)

    def _gloss_word(self, word: str, follow: bool, head: bool, nested: bool) -> str | None:
        """The known word that ``word`` of a definition stands for: itself or an inflection of
        it (a ``head`` noun only as :meth:`_head` allows), or with ``follow`` and unless
        ``nested`` its nearest known word by WordNet's relations and definitions, read once
        (not through the definitions of its own definition's words, nor the colour survey,
        which is for where a colour word stands). Never a word that says nothing of how a
        thing looks (:data:`_EMPTY`: "round object that is hit" is no reason to read "ball"
        as "object") nor a place ("front": "the side that is forward" is not the side)."""
        if not (follow or head):  # as before ``gloss_heads``: the known word itself
            return word if word in self.known and self._content(word) else None
        if word in _EMPTY or len(word) < MIN_LEN:
            return None
        for form in (word, *self.wordnet.base_forms(word, "n")):
            k = form if form in self.known else self.by_base.get(form)
            if k is None and head and form + "s" in self.known:
                k = form + "s"  # a head noun's plural: "a thin stripe" of a model knowing "stripes"
            if k is not None:
                good = k not in _EMPTY and self._content(k) and (not head or self._head(form))
                return k if good else None
        if not follow or nested:
            return None
        k = self._nearest(word, nested=True)
        return None if k in _EMPTY else k

    def _head(self, form: str) -> bool:
        """May ``form``, a definition's head noun, be read as the known word it is? Only when
        it is mostly a noun ("a small (usually square) block": not "small") and, where the
        data says in which senses it uses the word, its commonest noun sense is one of them
        ("the right to buy or sell": not the side; "an arbitrary sign": not the plus sign)."""
        counts = self.wordnet.sense_counts(form)
        nouns = self.wordnet.offsets(form, "n")
        if not nouns or tag_count(counts, "a") > tag_count(counts, "n"):
            return False
        for f in dict.fromkeys((form, *self.wordnet.base_forms(form, "n"))):
            home = self._home.get(f)  # "spots", in no WordNet sense SynthRef's, is "spot"'s plural
            if home is None or (self.wordnet.offsets(f, "n")[:1] and (nouns[0], "n") in home):
                return True
        return False
