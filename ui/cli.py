"""The `docchat` command line. Builds settings once, renders pipeline events, maps errors."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ingest.errors import DocchatError
from ui.markup import terminal_text

app = typer.Typer(
    help="docchat: ask questions about your own documents, offline, with citations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

ConfigOpt = Annotated[
    Optional[Path], typer.Option("--config", help="TOML config file (default ./docchat.toml).")
]
DataDirOpt = Annotated[
    Optional[Path], typer.Option("--data-dir", help="Index location [env DOCCHAT_DATA_DIR].")
]
CollectionOpt = Annotated[
    Optional[str], typer.Option("--collection", "-c", help="Collection name.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
PasswordOpt = Annotated[Optional[list[str]], typer.Option(
    "--password", "--pdf-password",
    help="Password to try on encrypted PDF and Office files (repeatable).")]


def _settings(config: Path | None, **overrides):
    from chat.settings import load_settings

    return load_settings(config, **overrides)


def _docchat(settings):
    from chat.app import DocChat

    return DocChat(settings)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (walked recursively).")],
    prune: Annotated[bool, typer.Option(
        "--prune", help="Also remove indexed files under these paths that were deleted.")] = False,
    pdf_password: PasswordOpt = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    collection: CollectionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add files to the index. Unchanged files are skipped; changed files are replaced."""
    _run_ingest(paths, prune, pdf_password, config, data_dir, collection, as_json)


@app.command()
def sync(
    paths: Annotated[list[Path], typer.Argument(help="Folders (or files) to mirror.")],
    pdf_password: PasswordOpt = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    collection: CollectionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make the index mirror these folders: new and changed files in, deleted ones out
    (the same as `ingest --prune`)."""
    _run_ingest(paths, True, pdf_password, config, data_dir, collection, as_json)


@app.command()
def watch(
    folders: Annotated[list[Path], typer.Argument(help="Folders to keep in step with.")],
    pdf_password: PasswordOpt = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Sync these folders, then keep the index in step with them as files are saved, replaced,
    moved or deleted (Ctrl-C ends it)."""
    from ingest.watch import FolderWatcher

    settings = _ingest_settings(pdf_password, config, data_dir, collection)
    watcher = FolderWatcher(_docchat(settings).ingestor, folders, on_report=_show_changes)
    typer.echo("Watching " + ", ".join(str(f) for f in watcher.folders) + " (Ctrl-C ends it)")
    try:
        watcher.run()
    except KeyboardInterrupt:
        pass


def _show_changes(report) -> None:
    """A watched folder's sync, printed when it changed something."""
    import time

    from ui.render import report_text

    if sum(report.count(status) for status in ("ingested", "removed", "failed")):
        typer.echo(time.strftime("%H:%M:%S ") + report_text(report))


def _ingest_settings(passwords, config, data_dir, collection):
    overrides = {"ingest": {"passwords": passwords}} if passwords else {}
    return _settings(config, data_dir=data_dir, collection=collection, **overrides)


def _run_ingest(paths, prune, passwords, config, data_dir, collection, as_json) -> None:
    from ui.render import report_text

    ingestor = _docchat(_ingest_settings(passwords, config, data_dir, collection)).ingestor
    if as_json or not sys.stderr.isatty():
        report = ingestor.ingest(paths, prune=prune)
    else:
        from ui.progress import IngestProgress

        with IngestProgress() as bar:
            report = ingestor.ingest(paths, prune=prune, progress=bar.file_done,
                                     on_plan=bar.planned)
    typer.echo(json.dumps(report.to_dict(), indent=2) if as_json else report_text(report))
    if report.failed:
        raise typer.Exit(1)


@app.command()
def remove(
    paths: Annotated[list[Path], typer.Argument(help="Indexed files, or folders of them.")],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Remove files (or everything under folders) from the index, even if deleted on disk."""
    gone = _docchat(_settings(config, data_dir=data_dir, collection=collection)).ingestor.remove(
        paths
    )
    for source in gone:
        typer.echo(f"removed: {source}")
    typer.echo(f"{len(gone)} files removed")
    if not gone:
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question.")],
    k: Annotated[Optional[int], typer.Option("--k", "-k", help="Chunks to retrieve.")] = None,
    file: Annotated[Optional[list[Path]], typer.Option(help="Only this file (repeatable).")] = None,
    folder: Annotated[
        Optional[list[Path]], typer.Option(help="Only files under this folder (repeatable).")
    ] = None,
    file_type: Annotated[
        Optional[list[str]], typer.Option("--type", help="Only this file type, e.g. pdf.")
    ] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    collection: CollectionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer a question from the indexed documents, streaming the answer, then its sources."""
    from retriever.types import SearchFilter

    settings = _settings(config, data_dir=data_dir, collection=collection, retrieval={"k": k})
    pipeline = _docchat(settings).pipeline
    filters = SearchFilter(
        files=tuple(str(p.expanduser().resolve()) for p in file or ()),
        folders=tuple(str(p.expanduser().resolve()) for p in folder or ()),
        file_types=tuple(file_type or ()),
    )
    answer = _print_answer(pipeline.ask(question, filters=filters), stream=not as_json)
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))


def _print_answer(events, stream: bool = True):
    """Stream the tokens, then the checked answer where it differs, warnings and sources."""
    from chat.types import AnswerEvent, TokenEvent
    from ui.render import after_stream, sources_text

    answer, streamed = None, ""
    for event in events:
        if isinstance(event, TokenEvent) and stream:
            streamed += event.text
            sys.stdout.write(terminal_text(event.text))
            sys.stdout.flush()
        elif isinstance(event, AnswerEvent):
            answer = event.answer
    assert answer is not None  # the pipeline always ends with an AnswerEvent
    if not stream:
        return answer
    if not _redraw(streamed, answer.text):
        tail = after_stream(streamed, answer.text)
        if tail:
            typer.echo(terminal_text(tail))
    typer.echo("")
    for warning in answer.warnings:
        typer.secho(f"warning: {terminal_text(warning)}", fg="yellow", err=True)
    typer.echo(terminal_text(sources_text(answer)))
    return answer


def _redraw(streamed: str, final: str) -> bool:
    """On a terminal, replace the streamed text with the checked one in place, so the answer
    is shown once. False where that cannot be done (not a terminal, or the streamed text has
    scrolled off the screen): the caller prints the difference instead."""
    import shutil

    if not streamed.strip() or final.strip() == streamed.strip():
        return False
    if not sys.stdout.isatty() or os.environ.get("TERM", "dumb") == "dumb":
        return False
    size = shutil.get_terminal_size()
    rows = sum(max(1, -(-len(line) // size.columns)) for line in streamed.split("\n"))
    if rows >= size.lines:
        return False
    up = f"\x1b[{rows - 1}A" if rows > 1 else ""
    # to the stream's first row, clear, redraw
    sys.stdout.write(f"\r{up}\x1b[J{terminal_text(final)}\n")
    sys.stdout.flush()
    return True


@app.command()
def chat(
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Chat in the terminal: follow-up questions know the conversation. Ctrl-D ends it."""
    settings = _settings(config, data_dir=data_dir, collection=collection)
    pipeline = _docchat(settings).pipeline
    history: list[dict[str, str]] = []
    while True:
        try:
            question = input("\n> ").strip()
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            return
        if not question:
            continue
        try:
            answer = _print_answer(pipeline.ask(question, history=history))
        except DocchatError as exc:  # e.g. the model server is down: say so, keep the chat
            typer.secho(f"error: {exc}", fg="red", err=True)
            continue
        history += [{"role": "user", "content": question},
                    {"role": "assistant", "content": answer.text}]


@app.command()
def ui(
    host: Annotated[Optional[str], typer.Option(help="Listen address.")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port.")] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Start the web chat and the OpenAI-compatible API (default http://127.0.0.1:7860)."""
    settings = _settings(
        config, data_dir=data_dir, collection=collection, server={"host": host, "port": port}
    )
    _serve(settings)


app.command(name="serve", help="The same as `ui`: web chat and API on one port.")(ui)


@app.command()
def demo(
    docs: Annotated[
        Optional[Path], typer.Option(help="Folder of Markdown guide pages (default: docs/).")
    ] = None,
    serve: Annotated[bool, typer.Option(help="Open the web chat afterwards.")] = True,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Build the sample documents (docchat's own guide), ingest them, open the web chat."""
    from ui.demo import build_demo_corpus, default_docs_dir
    from ui.render import report_text

    settings = _settings(config, data_dir=data_dir, collection="demo")
    out = build_demo_corpus(docs or default_docs_dir(), settings.data_dir / "demo-docs")
    typer.echo(f"Sample documents written to {out}")
    report = _docchat(settings).ingestor.ingest([out])
    typer.echo(report_text(report))
    if report.failed:
        raise typer.Exit(1)
    if serve:
        _serve(settings)


@app.command()
def collections(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """List the collections in the data directory with their file and chunk counts."""
    from ingest.state import IngestState

    settings = _settings(config, data_dir=data_dir)
    names = IngestState(settings.state_file, settings.collection).collections()
    if not names:
        typer.echo(f"No collections in {settings.data_dir} yet.")
    for name, (files, chunks) in names.items():
        typer.echo(f"{name}\t{files} files\t{chunks} chunks")


@app.command("config")
def show_config(config: ConfigOpt = None) -> None:
    """Print the effective configuration (defaults, file, environment) as JSON; the answer
    settings as they apply to the generator's model (its profile, and what you set)."""
    import json
    from dataclasses import asdict

    settings = _settings(config)
    data = settings.model_dump(mode="json")
    profile = asdict(settings.answer.profile(settings.generator))
    profile["checks"] = sorted(profile["checks"])
    data["answer"].update(profile)
    typer.echo(json.dumps(data, indent=2))


def _serve(settings) -> None:
    from ui.serve import require_safe_bind, serve

    require_safe_bind(settings.server)  # before loading models: fail fast
    docchat = _docchat(settings)
    typer.echo("Loading models…")
    docchat.generator.load()
    docchat.pipeline.warm_up()
    if settings.server.watch:
        from ingest.watch import FolderWatcher

        watcher = FolderWatcher(docchat.ingestor, settings.server.watch,
                                on_report=_show_changes)
        watcher.start()
        typer.echo("Watching " + ", ".join(str(f) for f in watcher.folders))
    url = f"http://{settings.server.host}:{settings.server.port}"
    typer.echo(f"Web chat on {url}/ and the OpenAI-compatible API on {url}/v1")
    serve(docchat, settings.server)


def _quiet_libraries() -> None:
    """Library chatter (progress bars, advisory warnings) is not for the user's terminal."""
    import logging
    import os

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging.getLogger("unstructured").setLevel(logging.ERROR)


def main() -> None:
    _quiet_libraries()
    try:
        app()
    except DocchatError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
