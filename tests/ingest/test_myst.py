"""MyST pages (Sphinx's Markdown) and reStructuredText roles, read as Sphinx shows them
(ingest.myst); plain Markdown that only looks like MyST left alone."""

from __future__ import annotations

from pathlib import Path

from ingest.loaders import FileLoader

load = FileLoader()


def read(tmp_path: Path, name: str, text: str):
    """The file written and loaded, its elements' texts, and those joined by lines."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    loaded = load(path)
    texts = [e.text for e in loaded.elements]
    return loaded, texts, "\n".join(texts)


MYST = '''(configuration)=
# Configuration

% Keep this page in sync with the API docs.

Call {func}`~harbor.configure` once; see {doc}`the guide <guide>` and {ref}`pools`.
Inline code stays as written: `{class}` and ``{func}`x` ``.

:::{note}
Arguments given to {class}`harbor.Client` win over the file.
:::

```{warning} Never disable certificate checks
Certificate checks protect you.
```

:::{versionchanged} 2.1.0 The pool holds {any}`int` connections.
:::

```{versionadded} 1.4.0
```

```{code-block} python
:caption: a client

client = harbor.Client()
```

```{doctest}
>>> harbor.Client().timeout
5.0
```

```{testsetup}
import harbor_secret_fixture
```

```{toctree}
:maxdepth: 2

guide
```

```{include} ../CHANGELOG.md
```

````{important}
Close clients you open:

```python
client.close()
```
````

```python
print("{class}`kept as written in code`")
```

```{figure} pool.png
:alt: the pool

Connections wait in the pool.
```
'''


def test_myst_pages_read_as_sphinx_shows_them(tmp_path):
    """MyST (Sphinx's Markdown) reached the index as written: roles glued to their names
    ("{func}~harbor.configure"), admonitions and version notes as code blocks, toctrees,
    test set-up, labels and comments as text."""
    loaded, texts, joined = read(tmp_path, "configuration.md", MYST)
    assert ("Call harbor.configure once; see the guide and pools. Inline code stays as "
            "written: {class} and {func}`x`.") in texts
    assert "Note: Arguments given to harbor.Client win over the file." in texts
    assert "Warning (Never disable certificate checks): Certificate checks protect you." \
        in texts
    assert "Changed in version 2.1.0: The pool holds int connections." in texts
    assert "New in version 1.4.0." in texts
    assert "```python\nclient = harbor.Client()\n```" in joined
    assert "```pycon\n>>> harbor.Client().timeout\n5.0\n```" in joined
    assert "Important: Close clients you open:" in joined
    assert "```\nclient.close()\n```" in joined  # in an admonition: without its language
    assert 'print("{class}`kept as written in code`")' in joined
    assert "Connections wait in the pool." in texts
    for residue in ("(configuration)=", "Keep this page", ":::", "{note}", "{warning}",
                    ":caption:", "harbor_secret_fixture", "maxdepth", "toctree", "{include}",
                    "~harbor", ":alt:"):
        assert residue not in joined, residue
    assert {e.headings for e in loaded.elements} == {("Configuration",)}
    assert any("include ../CHANGELOG.md" in n for n in loaded.notes)


def test_markdown_without_myst_is_not_rewritten(tmp_path):
    """A plain page that happens to start a line with "%" or "(x)=" keeps it: only a page
    that uses MyST's roles or directives is read as MyST (a JavaScript template string in
    inline code, "`${host}`", or a key pattern, "`rq:rl:{key}`", is no role)."""
    text = ("# Rates\n\n% of requests retried is shown per host.\n\n(beta)= marks a "
            "preview.\n\nThe URL is `${host}` and the key `rq:rl:{key}` — a hash, in `/${id}`.\n")
    _, texts, _ = read(tmp_path, "rates.md", text)
    assert "% of requests retried is shown per host." in texts
    assert "(beta)= marks a preview." in texts


def test_restructuredtext_roles_read_as_sphinx_shows_them(tmp_path):
    """pandoc keeps a role's text as written: ":class:`~harbor.Client`" was read as
    "~harbor.Client" and ":doc:`the guide <guide>`" as "the guide <guide>"."""
    rst = ("Roles\n=====\n\nUse :class:`~harbor.Client` or :py:func:`!harbor.get`, and read "
           ":doc:`the guide <guide>` and :ref:`pools`.\n")
    _, texts, _ = read(tmp_path, "roles.rst", rst)
    assert "Use harbor.Client or harbor.get, and read the guide and pools." in texts


MYST_EDGES = '''# Terms

Read {doc}`the configuration
guide <configuration>` and then {func}`structlog.configure`; run {samp}`pip install <package>`.

:::{glossary}
Bound logger
    A logger with a context.

    It wraps another logger.

    :::{seealso}
    {doc}`bound-loggers`
    :::

Processor
    A callable in the chain.
:::

:::{versionadded} 3.0
- added `ainfo`
- added `adebug`
:::

```{jupyter-execute}
# build a logger
import structlog
```

## Next

Last words.
'''


def test_myst_pages_as_people_wrap_and_nest_them(tmp_path):
    """Found in review: a role wrapped onto the next line stayed as written (and made the
    next role read as code); a glossary's indented closing fence closed the glossary and
    its definitions became code; a directive of an extension made a heading of a comment
    in its code; a literal role lost its "<package>"; a version note run into its list."""
    loaded, texts, joined = read(tmp_path, "terms.md", MYST_EDGES)
    assert ("Read the configuration guide and then structlog.configure; run pip install "
            "<package>.") in texts
    assert "Bound logger: A logger with a context." in texts
    assert "It wraps another logger." in texts
    assert "Seealso: bound-loggers" in texts
    assert "Processor: A callable in the chain." in texts
    assert "New in version 3.0:" in texts
    assert "```jupyter-execute\n# build a logger\nimport structlog\n```" in joined
    assert {e.headings for e in loaded.elements} == {("Terms",), ("Terms", "Next")}
    for residue in (":::", "{doc}", "{func}", "{glossary}"):
        assert residue not in joined, residue


def test_a_quarto_or_pandoc_page_is_not_myst(tmp_path):
    """A code cell "```{python}" (Quarto) is no MyST directive: the page's "% Title" line
    and its code stay as written."""
    text = "% My Report\n\n# Results\n\n```{python}\n# load the data\nimport pandas\n```\n"
    _, texts, _ = read(tmp_path, "report.md", text)
    assert "% My Report" in texts
    assert not any(t == "load the data" for t in texts)
