"""Documentation markup (Markdown, reStructuredText, Org, HTML) as HTML that unstructured's
HTML partitioner reads with the structure people wrote: headings under their real parents,
site markup rendered as labelled text or left out.

Markdown is converted with Python-Markdown (its admonition, footnote, definition-list and
table extensions), reStructuredText and Org with pandoc (as unstructured does itself), then
the HTML is tidied here with lxml (MyST, Sphinx's Markdown, is made plain Markdown first:
ingest.myst). The site conventions that no converter knows (mkdocs
`???` collapsibles, Docusaurus `:::` blocks, mkdocstrings `::: module.name` directives, MDX
imports, YAML front matter) and the tidying are hand-written: no library turns a docs site's
conventions into plain, labelled text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ingest.myst import from_myst, show_role

KINDS = {"md", "rst", "org", "asciidoc", "html"}
MARKDOWN_EXTENSIONS = ["tables", "fenced_code", "footnotes", "def_list", "admonition",
                       "sane_lists"]
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*\r?\n", re.S)
_FENCE = re.compile(r"^\s*(```|~~~)")
# mkdocs-material collapsibles: "??? note "Title"" / "???+ note" (pymdownx.details), read
# like "!!! note "Title"" (Python-Markdown's admonition extension).
_DETAILS = re.compile(r"^(\s*)\?\?\?\+?(\s+\S)")
_DOCUSAURUS_OPEN = re.compile(r"^:::(\w+)[ \t]*(.*?)\s*$")
_DOCUSAURUS_CLOSE = re.compile(r"^:::\s*$")
_MKDOCSTRINGS = re.compile(r"^:::\s+([\w.]+)\s*$")  # "::: package.module.function"
_MDX = re.compile(r"^(import\s.+\sfrom\s+['\"].+['\"]|export\s+(default|const)\s.+);?\s*$")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_ADOC_TITLE = re.compile(r"\A(?:\s*(?://[^\n]*|:[\w-]+:[^\n]*)\n)*\s*= (.+)$", re.M)
_ORG_TITLE = re.compile(r"^#\+TITLE:\s*(.+)$", re.M | re.I)
_ADMONITION_CLASSES = {"note", "tip", "hint", "important", "warning", "caution", "danger",
                       "attention", "error", "info", "seealso", "todo", "abstract", "summary",
                       "success", "question", "failure", "bug", "example", "quote"}
# Heading links (¶) and a Sphinx page's navigation bars; a page's other role="navigation"
# boxes (Wikipedia's authority-control navbox) hold content and stay.
_DROP = ("//a[contains(concat(' ', @class, ' '), ' headerlink ')]",
         "//div[contains(concat(' ', @class, ' '), ' related ')][@role='navigation']",
         "//nav", "//div[contains(@class, 'sphinxsidebar')]", "//comment()",
         "//sup[starts-with(@id, 'fnref')]", "//a[contains(@class, 'footnote-ref')]",
         "//a[contains(@class, 'footnote-backref')]", "//a[starts-with(@href, '#fnref')]")


@dataclass(frozen=True)
class Markup:
    html: str
    root: str | None  # the file's title or name, above its headings when it has no top one
    metadata: dict[str, str] = field(default_factory=dict)  # front matter: title, tags
    notes: tuple[str, ...] = ()


def to_html(path: Path, kind: str, encoding: str | None) -> Markup:
    text = path.read_text(encoding=encoding or "utf-8", errors="replace").lstrip("\ufeff")
    metadata: dict[str, str] = {}
    notes: list[str] = []
    if kind == "md":
        import markdown

        text, metadata = front_matter(text)
        text, read = from_myst(text)
        notes.extend(read)
        text, generated = mkdocs_to_markdown(text)
        if generated:
            notes.append("generated API reference (" + ", ".join(generated) + ") is not in "
                         "the folder: only the page's own text was read")
        html = markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS)
    elif kind in ("rst", "org", "asciidoc"):
        from unstructured.file_utils.file_conversion import (
            convert_file_to_html_text_using_pandoc)

        html = convert_file_to_html_text_using_pandoc(source_format=kind, filename=str(path))
        title = {"org": _ORG_TITLE, "asciidoc": _ADOC_TITLE}.get(kind)
        found = title.search(text) if title else None
        if found:  # pandoc keeps the document title as metadata, out of the HTML
            metadata["title"] = found.group(1).strip()
    else:
        html = text
    if kind == "rst":
        html, generated = without_autodoc(html)
        if generated:
            notes.append("generated API reference (" + ", ".join(generated) + ") is not in "
                         "the folder: only the page's own text was read")
    html = tidy(html, loose=kind != "html")
    name = metadata.get("title") or path.stem
    # An Org or AsciiDoc title is the document's top heading; its sections come out as <h1>.
    root = metadata.get("title") if kind in ("org", "asciidoc") else _root(html, name)
    return Markup(html, root, metadata, tuple(notes))


def front_matter(text: str) -> tuple[str, dict[str, str]]:
    """YAML front matter taken off the text; its title and tags as metadata."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, {}
    import yaml

    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return text, {}  # not front matter after all: leave the text as it is
    if not isinstance(data, dict):
        return text, {}
    meta = {}
    if data.get("title"):
        meta["title"] = str(data["title"]).strip()
    tags = data.get("tags") or data.get("keywords")
    if tags:
        meta["tags"] = ", ".join(map(str, tags)) if isinstance(tags, list) else str(tags)
    return text[match.end():], meta


def mkdocs_to_markdown(text: str) -> tuple[str, list[str]]:
    """Site conventions rewritten outside code fences: `???` collapsibles and Docusaurus
    `:::type Title` blocks as admonitions, mkdocstrings `::: name` directives (and their
    indented options) and MDX import lines dropped. Returns the text and the API names the
    directives would have pulled in."""
    out: list[str] = []
    generated: list[str] = []
    fenced = False
    in_block = False  # inside a Docusaurus ::: block: its body is indented
    skipping = False  # inside a mkdocstrings directive's indented options
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        if not fenced and not _FENCE.match(line):
            if skipping and (not line.strip() or line[:1] in " \t"):
                continue
            skipping = False
            directive = _MKDOCSTRINGS.match(line)
            if directive:
                generated.append(directive.group(1))
                skipping = True
                continue
            if _MDX.match(line):
                continue
            if in_block and _DOCUSAURUS_CLOSE.match(line):
                in_block = False
                out.append("")
                continue
            opened = _DOCUSAURUS_OPEN.match(line)
            if opened and not in_block:
                kind, title = opened.groups()
                out.append(f'!!! {kind.lower()}' + (f' "{title}"' if title else ""))
                in_block = True
                continue
            line = _DETAILS.sub(r"\1!!!\2", line)
        out.append(("    " + line if line.strip() else line) if in_block else line)
    return "\n".join(out) + "\n", generated


_AUTODOC = re.compile(r'<div class="(auto(?:module|class|function|method|data|attribute|'
                      r'exception|summary))"[^>]*>\s*<p>([^<]*)</p>\s*</div>', re.S)


def without_autodoc(html: str) -> tuple[str, list[str]]:
    """Sphinx autodoc directives (`.. automodule:: pkg`), which pandoc keeps as a div with
    the name in it, dropped: what they pull in is generated elsewhere. Returns the names."""
    names = [" ".join(m.group(2).split()) for m in _AUTODOC.finditer(html)]
    return _AUTODOC.sub("", html), names


def tidy(html: str, loose: bool = True) -> str:
    """Admonitions as labelled paragraphs ("Note (Title): ..."), definition lists as
    "term: definition" paragraphs, footnotes as "Footnote: ..." paragraphs; heading links
    (¶), navigation and comments dropped. `loose`: a box classed only "note", "warning"...
    is an admonition too (pandoc's output; in any web page only class "admonition" is)."""
    import lxml.html
    from lxml import etree

    if not html.strip():
        return html
    try:  # lxml refuses text that declares its own encoding: it is decoded already
        tree = lxml.html.document_fromstring(_XML_DECLARATION.sub("", html, count=1))
    except (ValueError, etree.ParserError):
        return html  # not parseable as HTML: unstructured's partitioner says what it is
    for xpath in _DROP:
        for node in tree.xpath(xpath):
            _remove(node)
    for role in tree.xpath("//code[contains(@class, 'interpreted-text')]"):
        show_role(role)
    for box in list(tree.iter("div", "aside", "section")):
        kind = _admonition_kind(box, loose)
        if kind:
            _label_admonition(box, kind)
    for pre in list(tree.iter("pre")):
        _fence(pre)
    for top in [lst for lst in tree.iter("ul", "ol") if not _inside_list(lst)]:
        if any(True for _ in top.iter("ul", "ol") if _ is not top):
            _flatten_nested(top)
    for dl in list(tree.iter("dl")):
        _flatten_definitions(dl)
    for notes in tree.xpath("//div[contains(@class, 'footnote')] | "
                            "//section[contains(@class, 'footnotes')]"):
        for hr in notes.iter("hr"):
            _remove(hr)
        for item in notes.iter("li"):
            first = next(item.iter("p"), item)
            first.text = "Footnote: " + (first.text or "").lstrip()
            item.tag = "div"
        for ol in notes.iter("ol"):
            ol.drop_tag()
    return etree.tostring(tree, encoding="unicode", method="html")


def _remove(node) -> None:
    """Remove a node but keep its tail text."""
    parent = node.getparent()
    if parent is None:
        return
    tail = node.tail or ""
    previous = node.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(node)


def _admonition_kind(box, loose: bool) -> str | None:
    classes = set((box.get("class") or "").split())
    if "admonition" in classes or (loose and classes & _ADMONITION_CLASSES):
        kind = next((c for c in classes if c in _ADMONITION_CLASSES), "note")
        return kind
    return None


def _label_admonition(box, kind: str) -> None:
    """<div class="admonition warning"><p class="admonition-title">No timeout</p><p>Body</p>
    (Python-Markdown, Sphinx) or <div class="warning"><div class="title"><p>Warning</p></div>
    (pandoc) -> <div><p>Warning (No timeout): Body</p></div>."""
    label = kind.capitalize()
    title_node = next((c for c in box if "title" in (c.get("class") or "")), None)
    title = " ".join(title_node.text_content().split()) if title_node is not None else ""
    if title_node is not None:
        _remove(title_node)
    prefix = label if not title or title.lower() == kind else f"{label} ({title})"
    first = next(iter(box), None)
    if first is not None and first.tag == "p" and not (box.text or "").strip():
        first.text = f"{prefix}: " + (first.text or "")
    else:
        from lxml.html import Element

        para = Element("p")
        para.text = f"{prefix}: " + (box.text or "").strip()
        box.text = None
        box.insert(0, para)
    box.attrib.pop("class", None)


_LANGUAGE = re.compile(r"(?:language-|lang-|highlight-|sourceCode\s+)([\w+#-]+)")


def _fence(pre) -> None:
    """A code block as Markdown fences with its language ("```python ... ```"), so that the
    chunk keeps it recognisable as code, whole, and says what it is."""
    language = ""
    for node in (next(pre.iter("code"), pre), pre, pre.getparent(),
                 pre.getparent().getparent() if pre.getparent() is not None else None):
        if node is None:
            continue
        found = _LANGUAGE.search(node.get("class") or "")
        if found and found.group(1) not in ("default", "sourceCode", "notranslate"):
            language = found.group(1)
            break
    code = pre.text_content().strip("\n")
    if not code.strip():
        return
    for child in list(pre):
        pre.remove(child)
    pre.text = f"```{language}\n{code}\n```"


_PARENT_WORDS = 8  # a parent item named in its children's paths: its first words


def _inside_list(node) -> bool:
    return any(a.tag in ("ul", "ol") for a in node.iterancestors())


def _flatten_nested(top) -> None:
    """A nested list as one flat list whose items carry their path, "Parent › Child": the
    HTML partitioner reads nested items as a flat run, and the nesting is the content (an
    exception hierarchy, options of a command)."""
    items: list[str] = []

    def walk(lst, path: list[str]) -> None:
        own = ""
        for li in lst.iterchildren("li", "ul", "ol"):
            if li.tag != "li":  # a list right inside a list (invalid, common): the item
                walk(li, path + [" ".join(own.split()[:_PARENT_WORDS])] if own else path)
                continue  # before it is its parent
            own = _own_text(li)
            items.append(" › ".join(path + [own]) if own else " › ".join(path))
            for child in (c for c in li.iterchildren() if c.tag in ("ul", "ol")):
                walk(child, path + [" ".join(own.split()[:_PARENT_WORDS])])
            for p in li.iterchildren("p", "div"):  # a loose list: sub-lists inside paragraphs
                for child in p.iterchildren("ul", "ol"):
                    walk(child, path + [" ".join(own.split()[:_PARENT_WORDS])])

    walk(top, [])
    for child in list(top):
        top.remove(child)
    top.text = None
    from lxml.html import Element

    for text in items:
        if text:
            li = Element("li")
            li.text = text
            top.append(li)


def _own_text(li) -> str:
    """The item's text without the text of the lists nested in it."""
    import copy

    own = copy.deepcopy(li)
    for lst in [c for c in own.iter("ul", "ol") if c is not own]:
        if lst.getparent() is not None:
            _remove(lst)
    return " ".join(own.text_content().split())


def _flatten_definitions(dl) -> None:
    """<dl><dt>term</dt><dd>definition</dd></dl> -> <p>term: definition</p> each."""
    from lxml.html import Element

    paragraphs = []
    term = None
    for child in dl:
        text = " ".join(child.text_content().split())
        if child.tag == "dt":
            term = text if term is None else f"{term}, {text}"
        elif child.tag == "dd":
            para = Element("p")
            para.text = f"{term}: {text}" if term else text
            paragraphs.append(para)
            term = None
    parent = dl.getparent()
    if parent is None or not paragraphs:
        return
    index = parent.index(dl)
    for offset, para in enumerate(paragraphs):
        parent.insert(index + offset, para)
    paragraphs[-1].tail = dl.tail
    parent.remove(dl)


def _root(html: str, name: str) -> str | None:
    """`name` when the page has headings but no top-level one (a file that starts at `##`);
    its headings then hang under it, siblings side by side."""
    levels = set(re.findall(r"<(h[1-6])\b", html, re.I))
    return name if levels and "h1" not in {lv.lower() for lv in levels} else None
