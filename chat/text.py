"""Sentence splitting and content words, for the grounding check and the extractive fallback.

Hand-written on purpose: a regex splitter is fast and predictable on answers with [n] markers,
which general-purpose splitters (spaCy, nltk) tend to separate from their sentence.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ingest.keyword_index import stemmer

# End punctuation, closing quotes, then any [n] markers (kept with this sentence), then space
# before what looks like the start of the next sentence.
_BOUNDARY = re.compile(
    r"[.!?][\"”’')]*((?:\s*\[[^\]\n]{1,20}\])*)\s+(?=[\"“‘(\[]?[A-Z0-9])"
)
_ABBREVIATION = re.compile(
    r"(?:\b(?:mr|mrs|ms|dr|prof|st|vs|etc|e\.g|i\.e|fig|no|approx|inc|ltd|jr|sr)|\b[A-Za-z])\.$",
    re.I,
)
# A number with a wildcard ("5xx", "4XX", "2.x"; not "1.5x", a factor) names a class of
# values: one word, and no number. Else "status 5 for a 5xx response" adds nothing to "5xx".
_WILDCARD = re.compile(r"(?<![\d.,])\d+(?:[xX]{2,}s?|(?:\.\d+)*\.[xX])\b")
_WORD = re.compile(_WILDCARD.pattern + r"|[A-Za-z]+|\d+(?:[.,]\d+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_ZERO_PARTS = re.compile(r"(?:\.0{1,2})+$")  # not "1.000", a thousand written the German way
# (Starting only where the whitespace before it starts: linear on long runs of spaces.)
_MARKER = re.compile(r"(?<!\s)\s*\[[^\]\n]{1,20}\]")
_UNITS = "one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_NUMBER_WORDS = {word: i for i, word in enumerate(_UNITS, start=1)} | {
    word: i for i, word in enumerate(_TEENS, start=10)} | {
    word: 10 * i for i, word in enumerate(_TENS, start=2)}
# "two", "twenty", "twenty-one"; a lone "one" is left out (more often "the one that").
_NUMBER_WORD = re.compile(r"\b(?:(%s)(?:[- ](%s))?|(%s))\b" % (
    "|".join(_TENS), "|".join(_UNITS), "|".join(_UNITS[1:] + _TEENS)))

# Function words and question words ("how long", "how often"): they say nothing about which
# passage answers a question or supports a claim.
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing done down during each either
else ever few for from further had has have having he her here hers herself him himself his
how however i if in into is it its itself just me more most my myself no nor not now of off
on once one only or other our ours ourselves out over own per same she should so some such
than that the their theirs them themselves then there these they this those through to too
under until up upon very was we were what when where which while who whom whose why will with
within without would yes yet you your yours yourself yourselves many much kind type called
name named according long often far old soon may might must shall
""".split())


_BULLET = re.compile(r"^[ \t]*(?:[-*•>]+(?:[ \t]+|$))*")
# A numbered item's marker ("1.", "2)") in an answer: not a sentence of its own ("1." would be
# one, and its steps would each count twice). Only where a list can begin or go on: at the
# start of a hard-wrapped line ("The default k is\n6. It can …") it is a value.
_NUMBERED = re.compile(r"^[ \t]*\d{1,3}[.)](?:[ \t]+|$)")
# A line that is a list item (quoted or not): "- step", "2) step", "> 1. step".
LIST_ITEM = re.compile(r"^[ \t]*(?:>+[ \t]*)*(?:[-*•]|\d{1,3}[.)])(?:[ \t]+|$)")


def bare_marker(text: str) -> bool:
    """Whether `text` is a list item's marker and nothing else ("3.", "-"): it says nothing."""
    item = LIST_ITEM.match(text)
    return bool(item) and not text[item.end():].strip()


FENCE = re.compile(r"^[ \t]*(?:```|~~~)")  # a code block's first or last line


def fenced_lines(text: str) -> set[int]:
    """The numbers of the lines of `text` that belong to a fenced code block, fences
    included (an unclosed block runs to the end)."""
    inside, lines = False, set()
    for number, line in enumerate(text.splitlines()):
        fence = bool(FENCE.match(line))
        if inside or fence:
            lines.add(number)
        if fence:
            inside = not inside
    return lines


_OPTION = re.compile(r"(?<![\w-])--?([A-Za-z]+)\b")


def split_sentences(text: str, *, numbered: bool = False) -> list[str]:
    """Sentences of `text`; a citation marker stays with the sentence before it."""
    return [sentence for _, _, sentence in located_sentences(text, numbered=numbered)]


def located_sentences(text: str, *, numbered: bool = False) -> list[tuple[int, int, str]]:
    """split_sentences(text), each with the number of its line and the offset in `text` at
    which that line begins. `numbered`: an answer's numbered list items lose their markers
    ("1." is not a sentence); a document's keep theirs, as the prompt shows them."""
    sentences: list[tuple[int, int, str]] = []
    offset, before = 0, ""
    for number, raw in enumerate(text.splitlines(keepends=True)):
        # A list bullet or quote mark, not the dashes of "--type pdf" or "-k 6". (Without its
        # line ending: "$" in _BULLET would not match before "\r\n".)
        whole = (raw.splitlines() or [""])[0]
        line = _BULLET.sub("", whole)
        if numbered and (not before.strip() or before.rstrip().endswith(":")
                         or LIST_ITEM.match(before)):
            line = _NUMBERED.sub("", line)  # a list begins or goes on here
        line, before = line.rstrip(), whole
        start = 0
        for match in _BOUNDARY.finditer(line):
            end = match.end(1) if match.group(1) else match.start() + 1
            candidate = line[start:end]
            if _ABBREVIATION.search(line[start:match.start() + 1]):
                continue
            if candidate.strip():
                sentences.append((number, offset, candidate.strip()))
            start = match.end()
        rest = line[start:].strip()
        if rest:
            sentences.append((number, offset, rest))
        offset += len(raw)
    return sentences


_ENDED = re.compile(r"[.!?][\"”’')]*(\s*\[[^\]\n]{1,20}\])*\s*$")
_LIST_ITEM = re.compile(r"(?m)^[ \t]*(?:[-*•]|\d+[.)])[ \t]+[^\n]*\s*\Z")


def unfinished_tail(text: str) -> str | None:
    """`text` without its last sentence, when that sentence was broken off (no end
    punctuation, not a list item) and at least one sentence comes before it; else None."""
    sentences = split_sentences(text)
    last_line = len(text.rstrip().splitlines()) - 1
    if len(sentences) < 2 or _ENDED.search(text) or _LIST_ITEM.search(text) or (
            last_line in fenced_lines(text)):  # code (or its closing ```) is no sentence
        return None
    return text[:text.rfind(sentences[-1])].rstrip()


def strip_markers(text: str) -> str:
    return _MARKER.sub("", text).strip()


def letters(text: str) -> str:
    """Lower-case letters and digits, one space between runs: for "does A say B" checks that
    ignore case, punctuation and spacing."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


@lru_cache(maxsize=50_000)
def content_words(text: str) -> tuple[str, ...]:
    """Stemmed content words and numbers of `text` in order, repeats kept, without stop words
    or citation markers."""
    text = strip_markers(text)
    # An option's name is content even when the word is not: "--type pdf", "-k 6".
    options = {name.lower() for name in _OPTION.findall(text)}
    words = [w.lower() for w in _WORD.findall(text)]
    words = [w for w in words if w in options or (
        w not in STOP_WORDS and (len(w) > 1 or w.isdigit()))]
    return tuple(stemmer().stemWords(words))


@lru_cache(maxsize=50_000)
def content_terms(text: str) -> frozenset[str]:
    """The distinct content words of `text` (see content_words)."""
    return frozenset(content_words(text))


# Auxiliary verbs: they open a yes/no question ("Does docchat …?") and follow the measure
# word in a "how" question ("how large are …").
AUXILIARIES = ("do|does|did|is|are|was|were|can|could|will|would|should|may|might|must|has|"
               "have|had")
# "How large are the chunks?": the word after "how" names what the answer measures; the
# sentence that answers says "200 tokens", not "large". Only before a verb or article ("how
# large are", "how big a"): "how docchat stores …" asks about docchat. (The commonest such
# words, "many", "much", "long", "old", "far", "often", "soon", are stop words everywhere.)
_HOW_WHAT = re.compile(rf"\bhow\s+([a-z]+)\s+(?:{AUXILIARIES}|a|an|the)\b", re.I)


def question_terms(question: str) -> frozenset[str]:
    """The content terms a passage that answers `question` should share with it: its content
    terms without the word after "how"."""
    terms = content_terms(question)
    measured = content_terms(" ".join(_HOW_WHAT.findall(question)))
    return terms - measured


# Questions whose answer is a number: "how many", "how much", "what year", "what percentage".
_ASKS_NUMBER = re.compile(r"\bhow (?:many|much)\b|\b(?:what|which) (?:year|percent(?:age)?)\b",
                          re.I)
# A count said without digits: "reduced to one", "not a single one", "none", "millions".
_COUNT_WORD = re.compile(r"\b(?:one|single|zero|none|no|half|dozens?|hundreds?|thousands?|"
                         r"millions?|billions?)\b", re.I)


def asks_for_number(question: str) -> bool:
    return bool(_ASKS_NUMBER.search(question))


def gives_number(text: str) -> bool:
    return bool(numbers(text)) or bool(_COUNT_WORD.search(strip_markers(text)))


def numbers(text: str) -> frozenset[str]:
    """Numbers in `text`, with thousands separators dropped ("1,000" and "1000" are equal),
    trailing ".0" parts dropped ("version 2.0" is "2.0.0", "5.0 seconds" is "5 seconds"), and
    small numbers written as words read as digits ("two" and "2" are equal; not "one", which
    is more often "the one that"). A number with a wildcard ("5xx") is none."""
    text = _WILDCARD.sub(" ", strip_markers(text))
    found = {_ZERO_PARTS.sub("", n.replace(",", "")) for n in _NUMBER.findall(text)}
    for tens, unit, small in _NUMBER_WORD.findall(text.lower()):
        value = _NUMBER_WORDS[small] if small else _NUMBER_WORDS[tens] + _NUMBER_WORDS.get(unit, 0)
        found.add(str(value))
    return frozenset(found)


# A token that can only be a name in code or on a command line: an option (--db-file, -P),
# snake_case (dep_file), camelCase or CamelCase with a capital inside after two small letters
# (dodoFile, BaseFail; not prose's PhD, McCain or iOS), a dotted or colon-joined path of
# such parts (doit.tools.set_trace, plugins:FooCmd). A name starts with a letter or "_"
# after no letter or digit ("10_000_000" and "3D_model" are none).
_TOKEN = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*|(?<!\w)[^\W\d]\w*(?:[.:][^\W\d]\w*)*")
_INNER_CAPITAL = re.compile(r"[a-z]{2}[A-Z]")
# Placeholders by convention: my_project, YOUR_API_KEY.
_PLACEHOLDER = re.compile(r"(?:my|your)_", re.I)
# How documents write what an answer writes plainly: "–backend" (typography's dash for
# "--"), soft hyphens and zero-width spaces inside names.
_DASH = re.compile(r"[\u2013\u2014](?=[A-Za-z])")
_INVISIBLE = re.compile(r"[\u00ad\u200b]")
# A PDF's line broken after a name's underscore reaches the index as "dep_ file".
_BROKEN_NAME = re.compile(r"(?<=[^\W_]_)[ \t]+(?=[^\W\d])")


def code_names(text: str) -> frozenset[str]:
    """The names of code in `text` (see _TOKEN): options as written, the rest lower-cased
    ("-p" and "-P" are different options; `BaseFail` and `basefail` are one name)."""
    found = set()
    for token in _TOKEN.findall(text):
        if token.startswith("-"):
            if not token.endswith("-"):  # "the --no- prefix" names no option
                found.add(token)
            continue
        if _PLACEHOLDER.match(token):
            continue
        parts = re.split(r"[.:]", token)
        dotted = len(parts) > 1 and all(len(part) > 1 for part in parts)  # not "e.g"
        if dotted or "_" in token.strip("_") or _INNER_CAPITAL.search(token):
            found.add(token.lower())
    return frozenset(found)


def names_in(name: str, text: str) -> bool:
    """Whether `name` (one of code_names) is in `text`: whole, or for a dotted path a tail of
    two or more of its parts ("tools.set_trace" for doit.tools.set_trace) or its last part
    when that is itself a name of code (set_trace)."""
    text = _INVISIBLE.sub("", _DASH.sub("--", text))
    written = (text, _BROKEN_NAME.sub("", text))
    if name.startswith("-"):
        option = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
        return any(option.search(candidate) for candidate in written)
    parts = re.split(r"([.:])", name)  # the name's parts with their separators
    tails = ["".join(parts[i:]) for i in range(0, len(parts) - 2, 2)]  # ≥ 2 parts each
    if len(parts) > 1 and code_names(parts[-1]):
        tails.append(parts[-1])
    found = re.compile("|".join(rf"(?<!\w){re.escape(tail)}(?!\w)" for tail in tails or [name]))
    return any(found.search(candidate.lower()) for candidate in written)
