"""Quotes from documentation chunks (issue 31): code blocks quoted whole with the sentence
that introduces them, never a lone line of code; a name given only in a heading kept."""

from chat.evidence import EvidenceScorer
from chat.extractive import extractive_answer
from chat.types import Source
from tests.fakes import FakeEmbeddings

scorer = EvidenceScorer(FakeEmbeddings().embed_documents)


def source(text: str, section: str = "", number: int = 1) -> Source:
    return Source(number, f"c{number}", "/docs/x.md", "x.md", None, section, text, 1.0)


INSTALL = """Installation

Install the core package with pip.

To use SOCKS proxies, install the socks extra as well:
```console
$ pip install harborline
$ pip install "harborline[socks]"
```

Proxies are then given as socks5 addresses."""


def test_a_code_line_is_quoted_as_its_whole_block_with_its_lead_in():
    """A bare `$ pip install <package>` line was quoted as the closest passage, and the
    extra the feature needs was on the next line."""
    ranked = scorer.rank("How do I pip install harborline for SOCKS proxies?",
                         [source(INSTALL, "Harborline > Installation")])
    text, cited = extractive_answer(ranked)
    assert cited == (1,)
    assert "install the socks extra as well:\n```console\n$ pip install harborline\n" \
           '$ pip install "harborline[socks]"\n```' in text
    assert text.count("pip install harborline") == 1


def test_a_lone_code_fragment_is_not_quoted_when_prose_is_there():
    """A lone `"json": {` line (from a chunk without fences) was quoted as the passage."""
    ranked = scorer.rank("What goes in the json field?", [source(
        'The request body holds the settings of the client.\n\n"json": {')])
    assert ranked[0].text == '"json": {'  # it matches best, and says nothing
    text, _ = extractive_answer(ranked)
    assert text == "“The request body holds the settings of the client.” [1]"


CHANGELOG = """2.1.0

Client.drain()

Waits until every pending request has finished, then closes the pool.

Brotli decoding

Responses compressed with br are decoded when the brotli extra is installed."""


def test_a_name_given_only_in_the_heading_is_scored_and_shown_with_the_sentence():
    """The function's name was in the heading alone: the sentence that says what it does
    did not match the question, and its quote did not say what it was about."""
    ranked = scorer.rank("What does Client.drain do?", [source(CHANGELOG, "Changelog")])
    best = next(m for m in ranked if m.text.startswith("Waits"))
    other = next(m for m in ranked if m.text.startswith("Responses"))
    assert best.heading == "Client.drain()" and best.score > other.score
    text, _ = extractive_answer(ranked)
    assert text.startswith("Client.drain(): “Waits until every pending request has finished")


HIERARCHY = """Exceptions

Every exception derives from one base class. The hierarchy is:
HarborError
HarborError › TransportError
HarborError › TransportError › ReadTimeout
InvalidURL

InvalidURL is raised before any request is sent."""


def test_a_list_is_quoted_whole_with_its_lead_in():
    """One item of an exception hierarchy ("HarborError › TransportError") was quoted
    alone: which exceptions derive from it was in the lines after."""
    ranked = scorer.rank("Which exceptions derive from TransportError?", [source(HIERARCHY)])
    text, _ = extractive_answer(ranked)
    assert "“Every exception derives from one base class. The hierarchy is:\nHarborError\n" \
           "HarborError › TransportError\nHarborError › TransportError › ReadTimeout\n" \
           "InvalidURL” [1]" in text
