"""`reformqa`: build the index, search it, ask it, list documents, serve the API, run the eval.

Human output by default, JSON with --json. Errors print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

from index.errors import ReformQAError

EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["eval"]:  # every option, --help included, belongs to the eval program
        argv = ["eval", "--", *argv[1:]]
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.handler(args) or 0
    except (ReformQAError, ValueError) as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reformqa", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(title="commands")

    index = commands.add_parser("index", help="build or inspect the index")
    index_commands = index.add_subparsers(title="index commands")
    build = index_commands.add_parser("build", help="build the index from a corpus folder")
    _add_paths(build, corpus=True)
    build.add_argument("--if-stale", action="store_true", help="skip when already up to date")
    build.add_argument("--json", action="store_true", help="print the build report as JSON")
    build.add_argument(
        "--engine", choices=("local", "ray"), default="local",  # index.builder.ENGINES
        help="what encodes the texts: this process (default), or Ray Data actors on the CPUs "
        "or GPUs of a local Ray, or of the cluster at RAY_ADDRESS (needs pip install -e "
        "'.[ray]'); the index is the same",
    )  # fmt: skip
    build.set_defaults(handler=_index_build)
    status = index_commands.add_parser("status", help="is the index up to date?")
    _add_paths(status, corpus=True)
    status.set_defaults(handler=_index_status)
    compact = index_commands.add_parser(
        "compact", help="merge the index's segments into one (adds and deletes go on meanwhile)"
    )
    _add_paths(compact)
    compact.set_defaults(handler=_index_compact)

    search = commands.add_parser("search", help="search the index")
    search.add_argument("query")
    _add_query_options(search, json_help=None)
    search.set_defaults(handler=_search)

    ask = commands.add_parser("ask", help="answer a question with cited figures")
    ask.add_argument("question")
    _add_query_options(ask, json_help="print the /v1/ask response body")
    explain_help = (
        "also say how it was answered: how the question was read, the figure "
        "candidates with their chances, those a constraint removed and why"
    )
    ask.add_argument("--explain", action="store_true", help=explain_help)
    ask.set_defaults(handler=_ask)

    evaluate = commands.add_parser(
        "eval", help="run the eval set (python -m eval.run; see `reformqa eval --help`)",
        add_help=False,
    )  # fmt: skip
    evaluate.add_argument("args", nargs=argparse.REMAINDER)
    evaluate.set_defaults(handler=_eval)

    docs = commands.add_parser("docs", help="documents in the index")
    docs_commands = docs.add_subparsers(title="docs commands")
    docs_list = docs_commands.add_parser("list", help="list the indexed documents")
    docs_list.add_argument("--json", action="store_true")
    _add_paths(docs_list)
    docs_list.set_defaults(handler=_docs_list)
    _add_feedback_commands(commands)

    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", help="default 127.0.0.1")
    serve.add_argument("--port", type=int, help="default 8000")
    serve.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes (default 1)"
    )
    _add_paths(serve, corpus=True)
    serve.set_defaults(handler=_serve)

    run = commands.add_parser("run", help="serve the API and the chat together (Ctrl-C stops both)")
    run.add_argument("--workers", type=int, default=1, help="API worker processes (default 1)")
    _add_paths(run, corpus=True)
    run.set_defaults(handler=_run)
    return parser


def _add_feedback_commands(commands) -> None:
    feedback = commands.add_parser("feedback", help="feedback readers gave on answers")
    feedback_commands = feedback.add_subparsers(title="feedback commands")
    export = feedback_commands.add_parser(
        "export", help="write every feedback entry, oldest first",
        description="Write every feedback entry (POST /v1/feedback), oldest first, from "
        "REFORMQA_FEEDBACK_DB (default <data-dir>/feedback.sqlite3).",
    )  # fmt: skip
    export.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="where to write (default: stdout)"
    )
    export.add_argument(
        "--format", choices=("jsonl", "csv"), default="jsonl",
        help="jsonl: one JSON object a line (default); csv: a header row, citations joined by "
        "spaces",
    )  # fmt: skip
    _add_paths(export)
    export.set_defaults(handler=_feedback_export)


def _add_query_options(parser: argparse.ArgumentParser, json_help: str | None) -> None:
    """What `search` and `ask` share: how many passages, filters, JSON output, the index."""
    parser.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    parser.add_argument("--doc-id", action="append", dest="doc_ids", help="only this document")
    parser.add_argument("--date-from", help="only documents dated on or after (YYYY-MM-DD)")
    parser.add_argument("--date-to", help="only documents dated on or before (YYYY-MM-DD)")
    parser.add_argument("--json", action="store_true", help=json_help)
    _add_paths(parser)


def _filters(args: argparse.Namespace):
    from index.types import Filters

    return Filters(doc_ids=args.doc_ids, date_from=args.date_from, date_to=args.date_to)


def _add_paths(parser: argparse.ArgumentParser, corpus: bool = False) -> None:
    parser.add_argument("--data-dir", type=Path, help="index folder (default ./data)")
    if corpus:
        parser.add_argument(
            "--corpus", type=Path, dest="corpus_dir",
            help="default ./docs_corpus (serve and run: the folder the index was built from)",
        )  # fmt: skip


def _settings(args: argparse.Namespace):
    from index.settings import Settings

    return Settings.from_env(
        data_dir=getattr(args, "data_dir", None),
        corpus_dir=getattr(args, "corpus_dir", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
    )


def _index_build(args: argparse.Namespace) -> int:
    from index.builder import build_index
    from index.updater import finish_interrupted_deletes

    settings = _settings(args)
    for name in finish_interrupted_deletes(settings):
        print(f"a delete was interrupted before its publish: {name} put back", file=sys.stderr)
    report = build_index(
        settings, progress=not args.json, if_stale=args.if_stale, engine=args.engine
    )
    if args.json:
        print(json.dumps({
            "version": str(report.version), "skipped": report.skipped, "reason": report.reason,
            "engine": report.engine,
            "documents": report.documents, "chunks": report.chunks,
            "seconds": round(report.seconds, 3), "encode_seconds": round(report.encode_seconds, 3),
            "chunks_per_second": round(report.chunks_per_second, 2), "stages": report.stages,
        }))  # fmt: skip
    elif report.skipped:
        print(f"index in {settings.data_dir} is up to date; nothing to build")
    else:
        print(
            f"indexed {report.documents} documents into {report.chunks} chunks in "
            f"{report.seconds:.1f} s ({report.chunks_per_second:.1f} chunks/s; "
            f"embedding {report.encode_seconds:.1f} s, {report.engine} engine) -> {report.version}"
        )
    return 0


def _server_settings(args: argparse.Namespace):
    """A server not told its corpus folder (no --corpus, no REFORMQA_CORPUS_DIR) writes
    uploads into the folder its index was built from, as the manifest records it."""
    from index.store import DataDir

    settings = _settings(args)
    if args.corpus_dir is not None or os.environ.get("REFORMQA_CORPUS_DIR"):
        return settings
    try:
        manifest = DataDir(settings.data_dir).read_manifest()
    except ReformQAError:  # the server reports an unreadable index itself, on /readyz
        return settings
    if manifest is None:
        return settings
    return settings.with_overrides(corpus_dir=Path(manifest.corpus_dir))


def _index_compact(args: argparse.Namespace) -> int:
    from index.store import DataDir
    from index.updater import compact

    settings = _settings(args)
    before = DataDir(settings.data_dir).read_manifest()
    version = compact(settings)
    if version is None:
        print(f"index in {settings.data_dir} is one segment with nothing deleted; nothing to do")
    else:
        merged = len(before.segments) if before else 0
        print(f"merged {merged} segments into one -> {version}")
    return 0


def _index_status(args: argparse.Namespace) -> int:
    from index.builder import index_status

    fresh, reason = index_status(_settings(args))
    print(f"{'fresh' if fresh else 'stale'}: {reason}")
    return 0 if fresh else 1


def _search(args: argparse.Namespace) -> int:
    from assistant.retriever import Retriever

    retriever = Retriever.load(_settings(args))
    passages = retriever.search(args.query, k=args.k, filters=_filters(args))
    if args.json:
        print(json.dumps({"passages": [p.model_dump(mode="json") for p in passages]}, indent=2))
        return 0
    if not passages:
        print("no passages match")
    for rank, p in enumerate(passages, 1):
        print(f"[{rank}] {p.score:.3f}  {p.title}  ({p.date or 'undated'}; {p.source or '?'}"
              f"{_pages(p)})")  # fmt: skip
        print(f"     {p.id}")
        if p.table_header:  # the passage starts inside a table: show what its rows are
            for line in p.table_header.split("\n\n"):
                print(f"     {line}   (repeated from above the passage)")
        print(textwrap.fill(p.text, width=100, initial_indent="     ", subsequent_indent="     "))
        print()
    return 0


def _ask(args: argparse.Namespace) -> int:
    from assistant.answering import Assistant
    from assistant.retriever import Retriever

    assistant = Assistant(Retriever.load(_settings(args)))
    result = assistant.ask(args.question, filters=_filters(args), top_k=args.k, trace=args.explain)
    explanation = _explanation(result) if args.explain else None
    if args.json:
        body = {
            "question": result.question, "answer": result.answer.model_dump(mode="json"),
            "passages": [p.model_dump(mode="json") for p in result.passages],
            "timings_ms": result.timings_ms,
        }  # fmt: skip
        if explanation is not None:
            body["explanation"] = explanation.model_dump(mode="json")
        print(json.dumps(body, indent=2))
        return 0
    answer = result.answer
    print(answer.text)
    print(f"\n(confidence {answer.confidence:.2f}{'; abstained' if answer.abstained else ''})")
    for n, p in enumerate(result.passages, 1):
        marker = "*" if p.id in answer.citations else " "
        print(f"{marker}[{n}] {p.title}  ({p.date or 'undated'}; {p.source or '?'}{_pages(p)})  "
              f"{p.id}")  # fmt: skip
    if explanation is not None:
        print("\n" + "\n".join(_explained_lines(explanation)))
    return 0


def _explanation(result):
    from assistant.api.schemas import Explanation

    return Explanation.of(result)


def _explained_lines(e, shown: int = 5) -> list[str]:
    """What `--explain` prints: the same record as the API's `explanation`, for a reader."""
    asked = "a number" if e.wants_figure else "not a number (a sentence may answer)"
    lines = [f"How it was answered: read as asking for {asked}"
             + (f"; time {e.time}" if e.time else "")
             + (f"; places {', '.join(e.places)}" if e.places else ""),
             f"  passages read: {len(e.passages_read)}",
             f"  candidates ({len(e.candidates)} kept, best first):"]  # fmt: skip
    lines += [f"    {c.chance:.2f}  {c.figure.text}  [{c.passage_id}]"
              for c in e.candidates[:shown]]  # fmt: skip
    if e.removed:
        lines.append(f"  removed by a constraint ({len(e.removed)}):")
        lines += [f"    {r.figure.text}: {r.reason}" for r in e.removed[:shown]]
    lines.append(f"  decision: {e.decision}" + (f" ({e.reason})" if e.reason else ""))
    return lines


def _eval(args: argparse.Namespace) -> int:
    """The eval lives in eval/, which product code must not import: run it as a program."""
    import subprocess

    if not (Path.cwd() / "eval" / "run.py").is_file():
        raise ReformQAError("run `reformqa eval` from the project root (where eval/ is)")
    rest = args.args[1:] if args.args[:1] == ["--"] else args.args
    return subprocess.call([sys.executable, "-m", "eval.run", *rest])


def _docs_list(args: argparse.Namespace) -> int:
    from index.embedder import recorded_name
    from index.reader import IndexReader

    settings = _settings(args)
    reader = IndexReader.open(
        settings.data_dir, recorded_name(settings.model, settings.embed_backend)
    )
    documents = reader.documents()
    if args.json:
        rows = [d.model_dump(mode="json", exclude={"text"}) for d in documents]
        print(json.dumps({"documents": rows}, indent=2))
        return 0
    for d in documents:
        print(f"{d.id}  {d.date or 'undated'!s:<10}  {d.chunks:>4} chunks  {d.title}")
    return 0


def _feedback_export(args: argparse.Namespace) -> int:
    from assistant.feedback import read_feedback

    path = _settings(args).feedback_path()
    if not path.is_file():
        print(f"no feedback yet: {path} does not exist", file=sys.stderr)
    records = read_feedback(path)
    if args.output is None:
        _write_feedback(records, sys.stdout, args.format)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            _write_feedback(records, out, args.format)
    except OSError as exc:
        raise ReformQAError(f"cannot write {args.output}: {exc.strerror}") from exc
    return 0


def _write_feedback(records, out, form: str) -> None:
    """jsonl: one object a line; csv: a header row, then one row each, citations space-joined."""
    import csv

    from assistant.feedback import COLUMNS

    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    if form == "csv":
        writer.writeheader()
    for record in records:
        row = record.model_dump(mode="json")
        if form == "csv":
            writer.writerow({**row, "citations": " ".join(row["citations"])})
        else:
            out.write(json.dumps({column: row[column] for column in COLUMNS}) + "\n")


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from assistant.api import create_app
    from assistant.api.observe import log_requests_as_json_lines

    settings = _server_settings(args)
    print(f"Reform QA API on http://{settings.host}:{settings.port}  (docs: /docs, ready: /readyz)")
    log_requests_as_json_lines()
    options = {"host": settings.host, "port": settings.port, "log_level": "info"}
    options["timeout_keep_alive"] = settings.keep_alive_seconds
    options["access_log"] = False  # ours is one JSON line per request, with its id and route
    if args.workers > 1:
        # Worker processes import the app themselves and read their settings from the
        # environment, so the command line's settings go there first.
        os.environ.update(settings.as_env())
        uvicorn.run("assistant.api.app:worker_app", factory=True, workers=args.workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)
    return 0


def _run(args: argparse.Namespace) -> int:
    from assistant.launcher import run_api_and_chat

    return run_api_and_chat(_server_settings(args), workers=args.workers)


def _one_line(exc: BaseException) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):  # pydantic's ValidationError: name the field, drop the URLs
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors())
    return " ".join(str(exc).split()) or type(exc).__name__


def _pages(passage) -> str:
    """'; p. 2' or '; pp. 2-3' for a passage of a PDF, '' otherwise."""
    label = passage.page_label()
    return f"; {label}" if label else ""


if __name__ == "__main__":
    sys.exit(main())
