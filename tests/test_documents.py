"""Adding and removing documents: incremental (only the new document is encoded, the result
equals a full rebuild), atomic, kept in step with the corpus folder, and safe under bad input
and concurrent traffic, on a real uvicorn with its own copy of the fixture index."""

from __future__ import annotations

import contextlib
import threading
import time

import httpx
import pytest

from assistant.retriever import Retriever
from index.builder import build_index, index_status
from index.errors import Conflict, DocumentNotFound
from index.reader import IndexReader
from index.updater import add_document, remove_document
from tests.conftest import KEY, Server, copy_index, start_server, stop_server
from tests.made_files import scanned_pdf, two_page_pdf
from tests.test_api import _assert_problem

HANOI = (
    "Hanoi opened 42 new one-stop shops for business licences in 2024.\n\n"
    "Waiting times for a licence fell by 30% compared with the year before.\n"
)
LONG_TITLE = f"---\ntitle: {'t' * 501}\n---\nHue cut 12 procedures.\n"  # a title past the cap


@pytest.fixture(scope="module")
def writer(tmp_path_factory, fixture_settings):
    """A server over a private copy of the fixture index that accepts writes with KEY. Shared
    by the tests of this module: each adds documents under ids of its own."""
    settings = copy_index(fixture_settings, tmp_path_factory.mktemp("writer"))
    server = start_server(settings, REFORMQA_MAX_UPLOAD_BYTES="20000")
    server.settings = settings
    yield server
    stop_server(server)


def _add(server: Server, **body) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/v1/documents", json=body, headers={"X-API-Key": KEY}, timeout=120
    )


def _doc_ids(server: Server) -> list[str]:
    page = httpx.get(f"{server.base_url}/v1/documents", params={"limit": 200}).json()
    return sorted(d["id"] for d in page["items"])


def _search_ids(server: Server, query: str, k: int = 3) -> list[str]:
    body = {"query": query, "top_k": k}
    return [
        p["doc_id"]
        for p in httpx.post(f"{server.base_url}/v1/search", json=body).json()["passages"]
    ]


# -- in process: the incremental index is the index a full rebuild makes --------------------


def test_an_added_then_removed_document_gives_the_index_a_rebuild_would(writable_index, embedder):
    settings = writable_index
    added = add_document(settings, embedder, HANOI.encode(), {"title": "Hanoi shops"}, "hanoi")
    assert added.document.chunks == 1 and [f.text for f in added.figures] == ["42", "30%"]
    remove_document(settings, embedder, "land_registry")
    assert index_status(settings) == (True, "up to date")
    incremental = Retriever(IndexReader.open(settings.data_dir, embedder.name), embedder, settings)

    rebuilt_settings = settings.with_overrides(data_dir=settings.data_dir.parent / "rebuilt")
    build_index(rebuilt_settings, embedder=embedder)
    rebuilt = Retriever(
        IndexReader.open(rebuilt_settings.data_dir, embedder.name), embedder, rebuilt_settings
    )
    assert len(incremental.reader.segments) == 2  # the build's, and the added document's
    matched = 0
    for query in ["one-stop shops in Hanoi", "land certificates", "budget for 2024", "dossiers"]:
        ours = [(p.id, p.score, p.figures) for p in incremental.search(query, k=5)]
        theirs = [(p.id, p.score, p.figures) for p in rebuilt.search(query, k=5)]
        assert ours == theirs
        ours = _keyword_scores_by_chunk(incremental.reader, query)  # BM25 statistics included
        assert ours == _keyword_scores_by_chunk(rebuilt.reader, query)
        matched += len(ours)
    assert matched >= 4
    assert_whole(incremental.reader)


def test_an_index_already_behind_its_corpus_stays_marked_stale(writable_index, embedder):
    (writable_index.corpus_dir / "unindexed.txt").write_text("Officials approved 12 procedures.")
    add_document(writable_index, embedder, HANOI.encode(), {}, "hanoi")
    fresh, reason = index_status(writable_index)
    assert not fresh and "corpus" in reason


def test_ids_are_unique_and_unknown_ids_are_refused(writable_index, embedder):
    with pytest.raises(Conflict):
        add_document(writable_index, embedder, HANOI.encode(), {}, "land_registry")
    with pytest.raises(DocumentNotFound):
        remove_document(writable_index, embedder, "no_such_document")


# -- the API on a real server -----------------------------------------------------------------


def test_a_document_added_as_json_is_searchable_and_kept_in_the_corpus(writer):
    before = _doc_ids(writer)
    reply = _add(writer, text=HANOI, title="Hanoi shops", date="2024-05-01", source="City")
    assert reply.status_code == 201, reply.text
    body = reply.json()
    doc_id = body["document"]["id"]
    assert doc_id.startswith("hanoi-shops-") and reply.headers["location"] == (
        f"/v1/documents/{doc_id}"
    )
    assert [f["text"] for f in body["figures"]] == ["42", "30%"]
    assert _doc_ids(writer) == sorted([*before, doc_id])
    assert _search_ids(writer, "one-stop shops for business licences")[0] == doc_id
    shown = httpx.get(f"{writer.base_url}/v1/documents/{doc_id}").json()
    assert shown["document"]["date"] == "2024-05-01" and shown["document"]["source"] == "City"
    stored = (writer.settings.corpus_dir / f"{doc_id}.md").read_text()
    assert stored.startswith("---\ntitle: Hanoi shops\n") and "42 new one-stop shops" in stored
    assert index_status(writer.settings) == (True, "up to date")


def test_an_uploaded_file_keeps_its_front_matter_under_the_form_fields(writer):
    text = "---\ntitle: From the file\nsource: File source\n---\nDa Nang cut 120 procedures.\n"
    reply = httpx.post(
        f"{writer.base_url}/v1/documents",
        files={"file": ("danang.txt", text.encode(), "text/plain")},
        data={"id": "danang", "source": "Form source"},
        headers={"X-API-Key": KEY},
        timeout=120,
    )
    assert reply.status_code == 201, reply.text
    document = reply.json()["document"]
    assert (document["id"], document["title"], document["source"]) == (
        "danang", "From the file", "Form source",
    )  # fmt: skip
    assert (writer.settings.corpus_dir / "danang.txt").is_file()


def test_an_uploaded_pdf_is_kept_as_it_came_and_its_passages_know_their_page(writer):
    reply = httpx.post(
        f"{writer.base_url}/v1/documents",
        files={"file": ("wards.pdf", two_page_pdf(), "application/pdf")},
        data={"id": "wards", "source": "Form source"},
        headers={"X-API-Key": KEY},
        timeout=120,
    )
    assert reply.status_code == 201, reply.text
    document = reply.json()["document"]
    assert (document["title"], document["source"]) == ("Ward results 2023", "Form source")
    assert (writer.settings.corpus_dir / "wards.pdf").read_bytes() == two_page_pdf()
    assert "Form source" in (writer.settings.corpus_dir / "wards.pdf.meta.yaml").read_text()
    found = httpx.post(f"{writer.base_url}/v1/search",
                       json={"query": "appointments booked in Ward 7", "top_k": 3,
                             "filters": {"doc_ids": ["wards"]}}).json()  # fmt: skip
    pages = {(p["page_start"], p["page_end"]) for p in found["passages"]}
    assert pages and all(start is not None and end is not None for start, end in pages)
    gone = httpx.delete(f"{writer.base_url}/v1/documents/wards", headers={"X-API-Key": KEY})
    assert gone.status_code == 204
    assert not any(p.name.startswith("wards.pdf") for p in writer.settings.corpus_dir.iterdir())


def test_a_deleted_document_is_gone_from_search_listing_and_corpus(writer):
    assert _add(writer, text=HANOI, id="hanoi").status_code == 201
    gone = httpx.delete(f"{writer.base_url}/v1/documents/hanoi", headers={"X-API-Key": KEY})
    assert gone.status_code == 204 and gone.content == b""
    assert "hanoi" not in _doc_ids(writer)
    assert "hanoi" not in _search_ids(writer, "one-stop shops for business licences", k=5)
    _assert_problem(httpx.get(f"{writer.base_url}/v1/documents/hanoi"), 404, "hanoi")
    again = httpx.delete(f"{writer.base_url}/v1/documents/hanoi", headers={"X-API-Key": KEY})
    _assert_problem(again, 404, "hanoi")
    assert not (writer.settings.corpus_dir / "hanoi.md").exists()


@pytest.mark.parametrize(
    ("send", "status", "detail"),
    [
        (dict(json={"text": HANOI}), 401, "X-API-Key"),
        (dict(json={"text": HANOI}, headers={"X-API-Key": "wrong"}), 401, "not valid"),
        (dict(json={"text": HANOI, "id": "land_registry"}), 409, "land_registry"),
        (dict(json={"text": HANOI, "id": "../escape"}), 422, "id"),
        (dict(json={"text": " \n "}), 422, "text"),
        (dict(json={"text": "---\ntitle: Front matter only\n---\n"}), 422, "no text"),
        (dict(json={"text": "---\ndate: 2024-02-30\n---\nBody."}), 422, "field 'date'"),
        (dict(json={"text": "---\ndate: 2024-13-01\n---\nBody."}), 422, "field 'date'"),
        (dict(json={"text": '---\ndate: !!timestamp "x"\n---\nBody.'}), 422, "field 'date'"),
        (dict(files={"file": ("a.md", b'---\ntitle: !!int "x"\n---\nB.', "text/x")}), 422, "title"),
        (dict(json={"text": LONG_TITLE}), 422, "title"),
        (dict(files={"file": ("t.md", LONG_TITLE.encode(), "text/markdown")}), 422, "limit is 500"),
        (dict(json={"text": HANOI, "id": "README"}), 422, "README"),
        (dict(json={"text": ""}), 422, "text"),
        (dict(json={"text": HANOI, "colour": "red"}), 422, "colour"),
        (dict(json={"text": "x" * 20_001}), 413, "20000"),
        (dict(content=b'{"text": ', headers={"Content-Type": "application/json"}), 400, "JSON"),
        (dict(content=b"plain", headers={"Content-Type": "text/plain"}), 415, "text/plain"),
        (dict(files={"file": ("a.pptx", b"PK\x03\x04", "application/zip")}), 415, "a.pptx"),
        (dict(files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")}), 422, "cannot be read"),
        (dict(files={"file": ("s.pdf", scanned_pdf(), "application/pdf")}), 422, "scanned"),
        (dict(files={"file": ("a.docx", b"not a zip", "application/octet-stream")}), 422, "zip"),
        (dict(files={"file": ("a.txt", b"caf\xe9 latin-1", "text/plain")}), 422, "UTF-8"),
        (dict(files={"file": ("a.txt", b"\xff\xfe\x00bin", "text/plain")}), 422, "binary"),
        (dict(files={"file": ("a.txt", b"y" * 20_001, "text/plain")}), 413, "20000"),
        (dict(data={"title": "no file"}, files={"x": ("a.txt", b"z", "text/plain")}), 422, "file"),
    ],
)
def test_bad_writes_get_a_problem_and_change_nothing(writer, send, status, detail):
    send = dict(send)
    before = _doc_ids(writer)
    files_before = sorted(p.name for p in writer.settings.corpus_dir.iterdir())
    headers = {"X-API-Key": KEY, **send.pop("headers", {})}
    if status == 401 and "X-API-Key" in detail:
        headers.pop("X-API-Key")
    reply = httpx.post(f"{writer.base_url}/v1/documents", headers=headers, timeout=60, **send)
    _assert_problem(reply, status, detail)
    assert _doc_ids(writer) == before
    assert sorted(p.name for p in writer.settings.corpus_dir.iterdir()) == files_before
    assert httpx.get(f"{writer.base_url}/readyz").status_code == 200


def test_writes_are_refused_when_no_key_is_configured(server):
    reply = httpx.post(f"{server.base_url}/v1/documents", json={"text": HANOI})
    _assert_problem(reply, 403, "REFORMQA_API_KEYS")
    gone = httpx.delete(f"{server.base_url}/v1/documents/land_registry")
    _assert_problem(gone, 403, "REFORMQA_API_KEYS")


# -- kill -9 in the middle of an add ------------------------------------------------------


def _bulk_text(paragraphs: int) -> str:
    return "\n\n".join(
        f"District {i} processed {40 + i} dossiers online in week {i % 50}, and "
        f"{i % 7} of its {12 + i % 5} offices moved to the one-stop model." * 3
        for i in range(paragraphs)
    )


def _wait_for(condition, timeout: float = 120.0, step: float = 0.002) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the awaited moment never came"
        time.sleep(step)


@pytest.mark.parametrize("moment", ["while encoding", "after the corpus file is written"])
def test_a_server_killed_mid_add_restarts_on_the_old_or_the_new_index(writable_index, moment):
    """A real SIGKILL at a real moment of an add; the restarted server serves one whole state."""
    settings = writable_index
    server = start_server(settings)
    before = _doc_ids(server)
    versions = settings.data_dir / "versions"
    corpus_file = settings.corpus_dir / "bulk.md"
    adding = threading.Thread(
        target=lambda: _swallow(lambda: _add(server, text=_bulk_text(600), id="bulk")),
        daemon=True,
    )
    adding.start()
    try:
        if moment == "while encoding":
            _wait_for(lambda: any(versions.glob(".staging-*")))
            time.sleep(0.5)
            assert not corpus_file.exists(), "the add finished encoding too soon to test"
        else:
            _wait_for(corpus_file.exists)
    except BaseException:
        stop_server(server)  # a failed wait must not leave the server running
        raise
    server.process.kill()
    server.process.wait(timeout=30)
    adding.join(timeout=30)

    restarted = start_server(settings)
    try:
        after = _doc_ids(restarted)
        assert after in (before, sorted([*before, "bulk"]))
        manifest = httpx.get(f"{restarted.base_url}/readyz").json()
        reader = IndexReader.open(settings.data_dir, manifest["model"])
        assert_whole(reader)
        assert reader.manifest.documents == len(after) == reader.count_documents()
        if "bulk" in after:
            assert _search_ids(restarted, "District 17 processed dossiers online")[0] == "bulk"
        else:  # the corpus is ahead of the index, and says so
            assert index_status(settings)[0] is (not corpus_file.exists())
        retry = _add(restarted, text=HANOI, id="after-restart")
        assert retry.status_code == 201, retry.text
        assert not any(versions.glob(".staging-*"))
    finally:
        stop_server(restarted)


def assert_whole(reader: IndexReader) -> None:
    """Every segment's vectors, BM25 rows, chunk rows and sentence vectors agree, and the
    manifest counts the live documents and chunks."""
    live_chunks = 0
    for segment in reader.segments:
        rows = segment.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        sentences = segment.db.execute("SELECT count(*) FROM sentences").fetchone()[0]
        loaded = segment.loaded
        assert loaded.vectors.size == loaded.keywords.size == rows == segment.record.chunks
        assert len(loaded.sentence_vectors) == sentences
        live_chunks += rows - len(segment.dead_rows)
    assert reader.manifest.chunks == live_chunks == reader.keywords.live_rows
    assert reader.manifest.documents == reader.count_documents()


def _keyword_scores_by_chunk(reader: IndexReader, query: str) -> dict[str, float]:
    scores = reader.keywords.scores(query)
    rows = [int(r) for r in scores.nonzero()[0]]
    passages = reader.passages(rows)
    return {passages[r]["id"]: float(scores[r]) for r in rows}


def _swallow(call) -> None:
    with contextlib.suppress(httpx.TransportError):  # killed under it: that is the point
        call()


# -- writes while reading ---------------------------------------------------------------


def test_adds_and_deletes_during_traffic_lose_nothing_and_fail_no_request(writable_index):
    """Two workers; askers and searchers run throughout while two writers add and delete."""
    server = start_server(writable_index, "--workers", "2")
    try:
        original = _doc_ids(server)
        failures: list[str] = []
        stop = threading.Event()
        counts = {"reads": 0}

        def read_loop(n: int) -> None:
            with httpx.Client(base_url=server.base_url, timeout=120) as client:
                while not stop.is_set():
                    if n % 2:
                        reply = client.post("/v1/ask", json={"question": "How many shops?"})
                    else:
                        reply = client.post("/v1/search", json={"query": "district dossiers"})
                    counts["reads"] += 1
                    if reply.status_code != 200:
                        failures.append(f"{reply.status_code} {reply.text[:200]}")

        def write_loop(name: str, deleted: list[str]) -> None:
            for i in range(4):
                text = f"District {name}{i} processed {100 + i} dossiers online in 2024.\n"
                reply = _add(server, text=text, id=f"{name}-{i}")
                if reply.status_code != 201:
                    failures.append(f"add {reply.status_code} {reply.text[:200]}")
            for i in (0, 2):
                reply = httpx.delete(
                    f"{server.base_url}/v1/documents/{name}-{i}", headers={"X-API-Key": KEY}
                )
                if reply.status_code != 204:
                    failures.append(f"delete {reply.status_code} {reply.text[:200]}")
                deleted.append(f"{name}-{i}")

        deleted: list[str] = []
        readers = [threading.Thread(target=read_loop, args=(n,)) for n in range(6)]
        writers = [threading.Thread(target=write_loop, args=(w, deleted)) for w in ("a", "b")]
        for thread in readers + writers:
            thread.start()
        for thread in writers:
            thread.join(timeout=600)
        stop.set()
        for thread in readers:
            thread.join(timeout=120)

        assert failures == []
        assert counts["reads"] > 20
        kept = [f"{w}-{i}" for w in ("a", "b") for i in (1, 3)]
        for _ in range(4):  # every worker, whichever answers, serves the final version
            assert _doc_ids(server) == sorted([*original, *kept])
        for doc_id in kept:
            shown = httpx.get(f"{server.base_url}/v1/documents/{doc_id}")
            assert shown.status_code == 200 and shown.json()["document"]["chunks"] == 1
        assert sorted(
            p.stem for p in writable_index.corpus_dir.iterdir() if p.stem[:2] in ("a-", "b-")
        ) == sorted(kept)
    finally:
        stop_server(server)
