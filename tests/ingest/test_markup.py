"""Documentation folders as people keep them (issue 31): Markdown, reStructuredText, HTML and
Org from mkdocs, Sphinx and Docusaurus, read with their structure and without site markup."""

from __future__ import annotations

from pathlib import Path

from ingest.chunking import chunk_elements
from ingest.loaders import FileLoader

load = FileLoader()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def sections(loaded) -> dict[str, tuple[str, ...]]:
    """Each element's first words -> its heading path."""
    return {" ".join(e.text.split()[:3]): e.headings for e in loaded.elements}


AUTH = """## Basic authentication

Pass a tuple of user name and password as `auth`.

## Digest authentication

Digest authentication answers the server's challenge.

### Nonces

The first request is sent twice.

## NTLM

NTLM is not built in.
"""


def test_sibling_headings_are_siblings_under_the_file_name(tmp_path):
    """A file whose first heading is `##`: its first heading was made the parent of the
    others ("Basic authentication > Digest authentication")."""
    found = sections(load(write(tmp_path, "authentication.md", AUTH)))
    assert found["Pass a tuple"] == ("authentication", "Basic authentication")
    assert found["Digest authentication answers"] == ("authentication", "Digest authentication")
    assert found["The first request"] == ("authentication", "Digest authentication", "Nonces")
    assert found["NTLM is not"] == ("authentication", "NTLM")


def test_a_file_with_a_top_heading_keeps_it_as_the_root(tmp_path):
    text = "# Guide\n\nIntro words here.\n\n### Deep first\n\nDeep words.\n\n## Second\n\nMore.\n"
    found = sections(load(write(tmp_path, "guide.md", text)))
    assert found["Intro words here."] == ("Guide",)
    assert found["Deep words."] == ("Guide", "Deep first")
    assert found["More."] == ("Guide", "Second")


MKDOCS = '''---
title: Harbor guide
tags:
  - http
  - client
---

import Tabs from '@theme/Tabs';

<!-- Edit README.md instead: this page is generated. -->

Harbor sends requests.

!!! note "Supported versions"
    Harbor runs on CPython 3.9 to 3.13.

??? info "Why no POST retries?"
    Sending a POST again is unsafe.

:::tip Chunk size
Pieces are 64 KiB by default.
:::

::: harbor.Client
    options:
      show_source: false

The shortcuts open a client and close it again.
'''


def test_site_markup_becomes_labelled_text_and_metadata(tmp_path):
    """mkdocs admonitions and collapsibles, Docusaurus blocks, front matter, MDX imports,
    mkdocstrings directives and comments were left in the text as they were written."""
    loaded = load(write(tmp_path, "guide.md", MKDOCS))
    texts = [e.text for e in loaded.elements]
    joined = "\n".join(texts)
    assert "Note (Supported versions): Harbor runs on CPython 3.9 to 3.13." in texts
    assert "Info (Why no POST retries?): Sending a POST again is unsafe." in texts
    assert "Tip (Chunk size): Pieces are 64 KiB by default." in texts
    for residue in ("!!!", "???", ":::", "---", "title:", "import Tabs", "Edit README",
                    "harbor.Client", "show_source"):
        assert residue not in joined, residue
    assert loaded.metadata == {"title": "Harbor guide", "tags": "http, client"}
    assert loaded.file_type == "md"  # front matter made it look like plain text
    assert {e.headings for e in loaded.elements} == {()}  # no headings: no root needed
    assert any("generated API reference (harbor.Client)" in n for n in loaded.notes)


SPHINX_RST = """Configuration
=============

Harbor reads ``harbor.toml``.

.. automodule:: harbor.config
   :members:

.. note::

   Arguments given to :class:`harbor.Client` win over the file.

.. warning:: Never disable certificate checks.

Glossary
--------

pool
    The open connections Harbor reuses.
"""

SPHINX_HTML = """<!DOCTYPE html><html><head><title>Deploy</title></head><body>
<div class="related" role="navigation"><ul><li><a href="index.html">Harbor docs</a> &raquo;</li></ul></div>
<section id="deploy"><h1>Deploy<a class="headerlink" href="#deploy">¶</a></h1>
<div class="admonition warning"><p class="admonition-title">Warning</p>
<p>Never set verify=False in production.</p></div>
<dl class="simple"><dt>SSL_CERT_FILE</dt><dd><p>A bundle used instead of certifi's.</p></dd></dl>
</section></body></html>
"""


def test_sphinx_directives_roles_and_html_exports_read_as_text(tmp_path):
    rst = [e.text for e in load(write(tmp_path, "config.rst", SPHINX_RST)).elements]
    assert "Note: Arguments given to harbor.Client win over the file." in rst
    assert "Warning: Never disable certificate checks." in rst
    assert "pool: The open connections Harbor reuses." in rst
    assert not any(t in ("Note", "Warning", "pool", "harbor.config") for t in rst)
    notes = load(tmp_path / "config.rst").notes
    assert any("generated API reference (harbor.config)" in n for n in notes)
    html = load(write(tmp_path, "deploy.html", SPHINX_HTML))
    texts = [e.text for e in html.elements]
    assert "Warning: Never set verify=False in production." in texts
    assert "SSL_CERT_FILE: A bundle used instead of certifi's." in texts
    assert not any("¶" in t or "Harbor docs" in t for t in texts)
    assert html.elements[-1].headings == ("Deploy",)


HIERARCHY = """# Exceptions

Harbor wraps every failure of the network, the protocol and the server in exceptions of its
own, raised from the request call that met the failure, with the request attached to them
so that a handler can log or retry it; the messages name the host and the reason in words.
Every exception derives from one base class. The hierarchy is:

* `HarborError`
    * `TransportError`
        * `ConnectTimeout`
        * `ReadTimeout`
    * `ProtocolError`
        * `RemoteProtocolError`
* `InvalidURL`
"""


def words(text: str) -> int:
    return len(text.split())


def test_a_nested_list_keeps_its_nesting_and_its_lead_in(tmp_path):
    """The exception hierarchy came out as a flat run of names, and the lead-in sentence
    could end a chunk whose list went into the next one."""
    loaded = load(write(tmp_path, "exceptions.md", HIERARCHY))
    items = [e.text for e in loaded.elements if e.category == "ListItem"]
    assert "HarborError › TransportError › ReadTimeout" in items
    assert "HarborError › ProtocolError › RemoteProtocolError" in items
    assert "InvalidURL" in items  # a top-level item has no parent
    chunks = chunk_elements(loaded.elements, count_tokens=words, chunk_tokens=75,
                            chunk_overlap=0, max_tokens=80)
    holding = [text for text, _ in chunks if "ReadTimeout" in text]
    assert len(chunks) > 1 and len(holding) == 1
    assert "The hierarchy is:\nHarborError\n" in holding[0]  # lead-in and list, line by line


INSTALL = """# Installing

Harbor is a small HTTP client with connection pooling, retries and pluggable
authentication, written in pure Python, with no compiled dependencies to build on the
machine that installs it; it runs wherever CPython or PyPy does.

To use SOCKS proxies, install the socks extra as well:

```console
$ pip install harbor

$ pip install "harbor[socks]"
```

Proxies are then given as socks5 addresses.
"""


def test_a_code_block_stays_whole_with_its_language_and_lead_in(tmp_path):
    """A one-line install command was cut from the line after it, which held the extra the
    feature needs, and from the sentence that says what it is for."""
    loaded = load(write(tmp_path, "install.md", INSTALL))
    code = [e.text for e in loaded.elements if e.category == "CodeSnippet"]
    assert code == ['```console\n$ pip install harbor\n\n$ pip install "harbor[socks]"\n```']
    chunks = chunk_elements(loaded.elements, count_tokens=words, chunk_tokens=40,
                            chunk_overlap=0, max_tokens=45)
    holding = [text for text, _ in chunks if "pip install" in text]
    assert len(chunks) > 1 and len(holding) == 1
    assert "install the socks extra as well:\n```console\n$ pip install harbor\n\n" \
           '$ pip install "harbor[socks]"\n```' in holding[0]


ASCIIDOC = """= Writing plugins
:toc:

== Entry points

A plugin is found through the `harbor.plugins` entry point group.

== Hooks

NOTE: Hooks run in the order in which the plugins were installed.

[source,python]
----
def on_request(request):
    request.headers["X-Trace"] = new_trace_id()
----
"""

ORG = """#+TITLE: Command line

* Options
- =--json= :: pretty-prints a JSON body with sorted keys
"""


def test_asciidoc_and_org_are_read_as_markup_under_their_title(tmp_path):
    """AsciiDoc was read as plain text, its markup ("== Hooks", "----") left in; Org's
    "term :: definition" items lost the term."""
    loaded = load(write(tmp_path, "plugins.adoc", ASCIIDOC))
    assert loaded.file_type == "asciidoc"
    found = {e.text: e.headings for e in loaded.elements}
    assert found["Note: Hooks run in the order in which the plugins were installed."] == (
        "Writing plugins", "Hooks")
    assert '```python\ndef on_request(request):\n    request.headers["X-Trace"] = ' \
           'new_trace_id()\n```' in found
    assert not any(t.startswith(("=", "----", ":toc:")) for t in found)
    org = load(write(tmp_path, "cli.org", ORG))
    assert [(e.text, e.headings) for e in org.elements][-1] == (
        "--json: pretty-prints a JSON body with sorted keys", ("Command line", "Options"))


FEATURES = """# Features

| Feature | Since | Extra |
| --- | --- | --- |
| Brotli decoding | 2.1 | brotli[^brotli] |

[^brotli]: Brotli needs either the brotli or the brotlicffi package.
"""


def test_markdown_footnotes_read_as_notes_and_tables_as_rows(tmp_path):
    """Footnotes were left as "[^brotli]: ..." text and "[^brotli]" marks in the table."""
    texts = [e.text for e in load(write(tmp_path, "features.md", FEATURES)).elements]
    assert "Feature | Since | Extra\nBrotli decoding | 2.1 | brotli" in texts
    assert "Footnote: Brotli needs either the brotli or the brotlicffi package." in texts
    assert not any("[^" in t or "↩" in t for t in texts)


def test_a_list_written_right_inside_a_list_hangs_under_the_item_before_it(tmp_path):
    """Common invalid HTML (<ul><li>A</li><ul><li>B</li></ul></ul>): its sub-items were
    lost when nested lists were first flattened; a content navbox stays."""
    html = ("<html><body><h1>Lists</h1><ul><li>A test list</li><ul><li>With sub-bullets</li>"
            "</ul><li>Back at the root</li></ul><div role='navigation' class='navbox'>"
            "<p>Authority control databases: BnF, Japan.</p></div></body></html>")
    texts = [e.text for e in load(write(tmp_path, "lists.html", html)).elements]
    assert texts[1:] == ["A test list", "A test list › With sub-bullets", "Back at the root",
                         "Authority control databases: BnF, Japan."]
