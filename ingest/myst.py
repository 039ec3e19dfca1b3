"""MyST Markdown (Sphinx's Markdown: myst-parser) rewritten as the plain Markdown that
Python-Markdown reads, before ingest.markup converts it.

Without this, a MyST page reaches the index with its markup in the text: a role's name
glued to its name of code ("{class}`~structlog.WriteLogger`" read as
"{class}~structlog.WriteLogger"), every admonition and version note (```` ```{note} ````,
`:::{versionadded} 23.1.0`) as a code block, toctrees and test fixtures as code, labels
("(config)=") as paragraphs. What is rewritten, outside code blocks:
- a role becomes what Sphinx shows: a name of code in backticks, whole, without its "~"
  or "!" (Sphinx shows a "~" name's last part; the whole name is kept for search); a
  link's or a term's text ("{doc}`the guide <guide>`" is "the guide"); a role may wrap
  onto the next line;
- an admonition becomes Python-Markdown's ("!!! note"), which ingest.markup labels
  ("Note: …");
- a version directive becomes Sphinx's sentence: "New in version 23.1.0: …", "Changed in
  version …", "Deprecated since version …";
- a code directive (code-block, doctest, testcode, …) becomes a fenced code block in its
  language;
- what a rendered page does not show is dropped: toctrees, test set-up and clean-up,
  labels, comments, directive options; so are directives that pull text in from elsewhere
  (include, literalinclude, eval-rst, autodoc): their names are returned, for the report;
- a glossary becomes "term: definition" paragraphs; a figure's caption, a tab or a card
  keeps its body as text; a directive of an extension not listed here keeps its body as
  code (nothing is lost, and no "# comment" in it becomes a heading).
A page is read as MyST only when it uses a role or a directive listed here: a Quarto or
pandoc page ("```{python}", "% Title") is plain Markdown.
Written by hand: myst-parser renders MyST only inside a Sphinx project with its extensions
and configuration, which a folder of pages does not have.
"""

from __future__ import annotations

import re
import textwrap

# A directive's opening fence: ```{name} arguments, or :::{name} arguments (colon fence).
_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})\{(?P<name>[A-Za-z][\w:.-]*)\}"
                   r"[ \t]*(?P<args>.*?)\s*$")
_CODE_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
# A role, else inline code (left alone), scanned left to right.
_SPAN = r"(?:[^`\n]|\n(?![ \t]*\n))+"  # text that may wrap, but not across a blank line
_INLINE = re.compile(rf"\{{(?P<name>[\w:.+-]+)\}}`(?P<content>{_SPAN})`|``{_SPAN}``|`{_SPAN}`")
_TITLED = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
_TARGET = re.compile(r"^[ \t]*\([\w.:-]+\)=[ \t]*$")  # "(config)=": a label for links
_COMMENT = re.compile(r"^%")
_BLOCK_BREAK = re.compile(r"^\+\+\+")
_OPTION = re.compile(r"^[ \t]*:[\w-]+:")
_BLOCK_START = re.compile(r"^[ \t]*([-*+] |\d+[.)] |```|~~~|\||!!! |#)")
_DIRECTIVE = re.compile(r"^[ \t]*(?:`{3,}|:{3,})\{([A-Za-z][\w:.-]*)\}", re.M)

ADMONITIONS = {"note", "warning", "important", "tip", "attention", "caution", "danger",
               "error", "hint", "seealso", "admonition", "todo"}
VERSIONS = {"versionadded": "New in version", "versionchanged": "Changed in version",
            "deprecated": "Deprecated since version", "versionremoved": "Removed in version"}
CODE = {"code-block": "", "code": "", "sourcecode": "", "code-cell": "", "doctest": "pycon",
        "testcode": "python", "testoutput": ""}
HIDDEN = {"toctree", "testsetup", "testcleanup", "contents", "tableofcontents", "index",
          "highlight", "currentmodule", "module", "meta"}
PULLED_IN = {"include", "literalinclude", "eval-rst", "eval-md"}
# Directives whose body is text to read (a figure's caption, a tab, a card, a glossary);
# any other directive's body is kept as code: nothing is lost, and no line of code
# ("# build a logger") becomes a heading.
TEXT = {"figure", "glossary", "tab", "tab-set", "tab-item", "card", "grid", "grid-item",
        "grid-item-card", "dropdown", "topic", "sidebar", "rubric", "epigraph",
        "pull-quote", "only", "container", "div", "margin", "centered", "hlist", "table",
        "list-table", "csv-table", "image"}
KNOWN = ADMONITIONS | set(VERSIONS) | set(CODE) | HIDDEN | PULLED_IN | TEXT
# Roles whose text is shown as written, "<…>" included: not a link with a title.
LITERAL_ROLES = {"code", "samp", "literal", "command", "file", "kbd", "math", "abbr",
                 "guilabel", "menuselection", "sub", "sup", "program"}
# Roles whose text is a name of code: shown in backticks, as Sphinx shows it.
CODE_ROLES = {"func", "class", "meth", "attr", "mod", "obj", "exc", "data", "const", "any",
              "envvar", "option", "program", "file", "samp", "command", "code", "literal"}


def is_myst(text: str) -> bool:
    """Whether a Markdown text uses MyST's directives or roles. Braces inside inline code
    ("`rq:rl:{key}`", "`${host}`") are no role."""
    names = (m.group(1).split(":")[-1].lower() for m in _DIRECTIVE.finditer(text))
    return any(name in KNOWN or name.startswith("auto") for name in names) or any(
        m.group("name") for m in _INLINE.finditer(text))


def from_myst(text: str) -> tuple[str, list[str]]:
    """A Markdown page as plain Markdown (unchanged unless it is MyST), and notes for the
    ingest report."""
    if not is_myst(text):
        return text, []
    text, pulled = myst_to_markdown(text)
    if not pulled:
        return text, []
    listed = ", ".join(dict.fromkeys(pulled))
    return text, [f"MyST directives that pull text in from elsewhere ({listed}) were not "
                  "followed: an included file is read only as a file of its own"]


def myst_to_markdown(text: str) -> tuple[str, list[str]]:
    """The text as plain Markdown, and what its directives would have pulled in from
    elsewhere ("include ../CHANGELOG.md", "automodule structlog")."""
    pulled: list[str] = []
    lines = _rewrite(text.splitlines(), pulled)
    return "\n".join(lines) + "\n", pulled


def _rewrite(lines: list[str], pulled: list[str]) -> list[str]:
    out: list[str] = []
    plain: list[str] = []  # text lines, whose roles are rewritten together (a role may wrap)

    def flush() -> None:
        if plain:
            out.extend(roles("\n".join(plain)).split("\n"))
            plain.clear()

    i = 0
    code_fence = ""  # inside an ordinary code block: its fence
    while i < len(lines):
        line = lines[i]
        if code_fence:
            out.append(line)
            if line.strip().startswith(code_fence) and not line.strip().strip(code_fence[0]):
                code_fence = ""
            i += 1
            continue
        opened = _OPEN.match(line)
        if opened:
            flush()
            body, i = _body(lines, i + 1, opened.group("fence"), len(opened.group("indent")))
            out.extend(_directive(opened.group("name").split(":")[-1].lower(),
                                  opened.group("args"), body, opened.group("indent"), pulled))
            continue
        fence = _CODE_FENCE.match(line)
        if fence:
            flush()
            code_fence = fence.group(1)
            out.append(line)
        elif not (_TARGET.match(line) or _COMMENT.match(line) or _BLOCK_BREAK.match(line)):
            plain.append(line)
        i += 1
    flush()
    return out


def _body(lines: list[str], start: int, fence: str, indent: int) -> tuple[list[str], int]:
    """A directive's lines up to its closing fence (the same character, at least as many,
    indented less than 4 spaces beyond the opening), and the index after it. Nested
    directives use longer fences, other ones, or deeper indentation."""
    char, depth = fence[0], len(fence)
    for j in range(start, len(lines)):
        stripped = lines[j].strip()
        shift = len(lines[j]) - len(lines[j].lstrip()) - indent
        if len(stripped) >= depth and stripped == char * len(stripped) and shift < 4:
            return lines[start:j], j + 1
    return lines[start:], len(lines)  # never closed: the page ends it


def _directive(name: str, args: str, body: list[str], indent: str,
               pulled: list[str]) -> list[str]:
    body = _without_options(body)
    if name in HIDDEN:
        return []
    if name in PULLED_IN or name.startswith("auto"):
        pulled.append(f"{name} {args}".strip())
        return []
    if name in CODE:
        language = CODE[name] or (args.split()[0] if args else "")
        return [f"{indent}```{language}", *body, f"{indent}```", ""]
    if name not in KNOWN:  # a directive of an extension: its body kept, as code
        return [f"{indent}```{name}", *body, f"{indent}```", ""]
    if name == "glossary":
        return _glossary(body, pulled)
    inner = _rewrite(textwrap.dedent("\n".join(body)).split("\n"), pulled)
    if name in ADMONITIONS:
        kind = "note" if name == "admonition" else name
        title = f' "{roles(args)}"' if args else ""
        return ["", f"{indent}!!! {kind}{title}",
                *(f"{indent}    {line}" if line.strip() else "" for line in
                  _indented_code(inner)), ""]
    if name in VERSIONS:
        # "{versionchanged} 14.0.0 Allow …": the version, then what changed, if said there
        version, _, said = args.partition(" ")
        words = VERSIONS[name] + (f" {version}" if version else "")
        inner = [roles(said.strip())] + inner if said.strip() else inner
        first = next((n for n, line in enumerate(inner) if line.strip()), None)
        if first is None:
            return ["", f"{indent}{words}.", ""]
        if _BLOCK_START.match(inner[first]):  # a list, a code block: after the sentence
            return ["", f"{indent}{words}:", "", *inner, ""]
        inner[first] = f"{indent}{words}: {inner[first].strip()}"
        return ["", *inner, ""]
    # A figure's caption, a glossary, a tab, a card: the body as text, a title first.
    heading = [f"{indent}{roles(args)}", ""] if args and name not in ("figure", "image") \
        else []
    return ["", *heading, *inner, ""]


def _glossary(body: list[str], pulled: list[str]) -> list[str]:
    """A glossary's terms (lines at its left edge) each with its indented definition, as
    "term: definition" paragraphs."""
    out: list[str] = []
    term, definition = "", []

    def close() -> None:
        if not term:
            return
        inner = _rewrite(textwrap.dedent("\n".join(definition)).split("\n"), pulled)
        first = next((n for n, line in enumerate(inner) if line.strip()), None)
        if first is None:
            out.extend(["", term, ""])
        else:
            inner[first] = f"{term}: {inner[first]}"
            out.extend(["", *inner, ""])

    for line in body:
        if line.strip() and not line[:1].isspace():
            close()
            term, definition = roles(line.strip()), []
        else:
            definition.append(line)
    close()
    return out


def _indented_code(lines: list[str]) -> list[str]:
    """Fenced code blocks as indented ones: inside an admonition, Python-Markdown reads only
    those (its fenced_code extension does not look into blocks)."""
    out: list[str] = []
    fence = ""
    for line in lines:
        opened = _CODE_FENCE.match(line)
        if not fence and opened:
            fence = opened.group(1)
            out.append("")
        elif fence and line.strip().startswith(fence) and not line.strip().strip(fence[0]):
            fence = ""
            out.append("")
        else:
            out.append(f"    {line}" if fence else line)
    return out


def _without_options(body: list[str]) -> list[str]:
    """A directive's body without its options: ":caption: …" lines, or a "---" YAML block,
    at its start."""
    if body and body[0].strip() == "---":
        end = next((n for n in range(1, len(body)) if body[n].strip() == "---"), None)
        if end is not None:
            return body[end + 1:]
    n = 0
    while n < len(body) and _OPTION.match(body[n]):
        n += 1
    return body[n:]


def roles(line: str) -> str:
    """The line with each MyST role as Sphinx shows it (outside inline code)."""
    return _INLINE.sub(_role, line)


def _role(match: re.Match[str]) -> str:
    if match.group("name") is None:
        return match.group(0)  # inline code
    text, code = shown(match.group("name"), match.group("content"))
    return f"`{text}`" if code else text


def shown(role: str, content: str) -> tuple[str, bool]:
    """What Sphinx shows for a role (MyST's, or reStructuredText's as pandoc keeps it), and
    whether it is a name of code: a link's or a term's text ("the guide <guide>" is "the
    guide"), a name without its "~" or "!"."""
    name = role.split(":")[-1].lower()
    content = content.strip()
    titled = None if name in LITERAL_ROLES else _TITLED.match(content)
    if titled and titled.group("text"):
        content = titled.group("text")
    elif name in CODE_ROLES:
        content = content.lstrip("~!")
    return content, name in CODE_ROLES


def show_role(code) -> None:
    """A reStructuredText role in pandoc's HTML (an lxml <code class="interpreted-text">,
    its text as written: "~pkg.Name", "the guide <guide>") as Sphinx shows it: a name of
    code stays code, a link's text becomes plain text."""
    text, is_code = shown(code.get("role") or code.get("data-role") or "", code.text_content())
    for child in list(code):
        code.remove(child)
    code.text = text
    if not is_code:
        code.drop_tag()
