"""POST /v1/feedback stores ratings of answers in SQLite; `reformqa feedback export` reads them
back. The endpoint needs no index, so the app here never loads one."""

import csv
import datetime as dt
import json
import multiprocessing
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.api.app import RetrieverSlot
from assistant.cli import main
from assistant.feedback import FeedbackEntry, read_feedback, record_feedback
from index.settings import Settings
from tests.test_api import _assert_problem

RATED = {
    "rating": "down",
    "comment": "Sai năm: con số là của 2022,\nkhông phải 2023.",  # a comma and a line break
    "question": "How many ID cards had been issued by 2023?",
    "answer": "**more than 76 million** electronic ID cards (as of 2023-02-03) [1].",
    "citations": ["000_09fe290d33704444#0004", "land_registry#0001"],
    "request_id": "trace-42",
    "index_version": "v-20261123T125312-ab12cd34ef56",
}


@pytest.fixture(autouse=True)
def _no_feedback_db_from_the_environment(monkeypatch):
    monkeypatch.delenv("REFORMQA_FEEDBACK_DB", raising=False)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def client(data_dir):
    with TestClient(create_app(Settings(data_dir=data_dir), slot=RetrieverSlot())) as client:
        yield client


def _export(capsys, data_dir: Path, *options: str) -> tuple[int, str, str]:
    status = main(["feedback", "export", "--data-dir", str(data_dir), *options])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_feedback_is_stored_and_answered_with_its_id_and_time(client, data_dir):
    first = client.post("/v1/feedback", json=RATED)
    second = client.post("/v1/feedback", json={"rating": "up", "question": "Q?", "answer": ""})
    assert first.status_code == second.status_code == 201, first.text
    stored = first.json()
    assert {k: stored[k] for k in RATED} == RATED
    assert second.json()["id"] > stored["id"] and second.json()["citations"] == []
    created = dt.datetime.fromisoformat(stored["created_at"])
    assert created.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - created) < dt.timedelta(minutes=1)
    kept = [r.model_dump() for r in read_feedback(data_dir / "feedback.sqlite3")]
    assert kept == [stored, second.json()]


def test_export_writes_one_json_object_a_line_oldest_first(client, data_dir, capsys):
    answers = [client.post("/v1/feedback", json={**RATED, "question": f"Q{n}"}) for n in range(3)]
    status, out, err = _export(capsys, data_dir)
    assert status == 0 and err == ""
    assert [json.loads(line) for line in out.splitlines()] == [a.json() for a in answers]
    assert list(json.loads(out.splitlines()[0]))[:3] == ["id", "created_at", "rating"]


def test_export_writes_csv_with_a_header_and_citations_joined_by_spaces(
    client, data_dir, tmp_path, capsys
):
    stored = client.post("/v1/feedback", json=RATED).json()
    client.post("/v1/feedback", json={"rating": "up", "question": "Q?", "answer": "A."})
    target = tmp_path / "feedback.csv"
    status, out, _ = _export(capsys, data_dir, "--format", "csv", "--output", str(target))
    assert status == 0 and out == ""
    with open(target, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and list(rows[0])[:3] == ["id", "created_at", "rating"]
    assert rows[0]["citations"] == "000_09fe290d33704444#0004 land_registry#0001"
    assert rows[0]["comment"] == RATED["comment"] and rows[0]["id"] == str(stored["id"])
    assert rows[1]["comment"] == "" and rows[1]["citations"] == ""


def test_export_with_no_feedback_yet_says_so_on_stderr_only(data_dir, capsys):
    note = f"no feedback yet: {data_dir / 'feedback.sqlite3'} does not exist\n"
    assert _export(capsys, data_dir) == (0, "", note)
    status, out, err = _export(capsys, data_dir, "--format", "csv")
    assert status == 0 and "no feedback yet" in err
    assert out.splitlines() == [
        "id,created_at,rating,comment,question,answer,citations,request_id,index_version"
    ]
    assert not data_dir.exists()  # reading created nothing


def test_the_feedback_file_can_be_put_elsewhere(tmp_path, monkeypatch, capsys):
    elsewhere = tmp_path / "shared" / "ratings.sqlite3"
    record_feedback(elsewhere, FeedbackEntry(rating="up", question="Q?", answer="A."))
    monkeypatch.setenv("REFORMQA_FEEDBACK_DB", str(elsewhere))
    status, out, _ = _export(capsys, tmp_path / "data")
    assert status == 0 and json.loads(out)["question"] == "Q?"


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"rating": "meh"}, "rating: Input should be 'up' or 'down'"),
        ({"rating": None}, "rating"),
        ({"question": " \n\t"}, "question: String should match pattern"),
        ({"question": ""}, "question"),
        ({"comment": "x" * 2001}, "comment: String should have at most 2000 characters"),
        ({"answer": "x" * 20_001}, "answer: String should have at most 20000 characters"),
        ({"citations": "000_09fe290d33704444#0004"}, "citations"),
        ({"request_id": "bad id\t!"}, "request_id"),
        ({"score": 5}, "score: Extra inputs are not permitted"),
    ],
)
def test_invalid_feedback_gets_a_422_problem_and_nothing_is_stored(
    client, data_dir, change, detail
):
    _assert_problem(client.post("/v1/feedback", json={**RATED, **change}), 422, detail)
    assert list(read_feedback(data_dir / "feedback.sqlite3")) == []


def test_the_limits_themselves_are_accepted(client):
    body = {**RATED, "comment": "x" * 2000, "question": "q" * 2000, "answer": "a" * 20_000}
    assert client.post("/v1/feedback", json=body).status_code == 201


def test_malformed_json_gets_a_400_problem(client, data_dir):
    reply = client.post(
        "/v1/feedback", content=b'{"rating": "up"', headers={"content-type": "application/json"}
    )
    _assert_problem(reply, 400, "not valid JSON")
    assert not data_dir.exists()


def test_feedback_is_a_read_needing_a_key_only_when_reads_do(tmp_path):
    closed = Settings(data_dir=tmp_path, api_keys="k-one", read_requires_key=True)
    with TestClient(create_app(closed, slot=RetrieverSlot())) as client:
        _assert_problem(client.post("/v1/feedback", json=RATED), 401, "X-API-Key")
        assert list(read_feedback(closed.feedback_path())) == []
        keyed = client.post("/v1/feedback", json=RATED, headers={"X-API-Key": "k-one"})
        assert keyed.status_code == 201
    with TestClient(create_app(Settings(data_dir=tmp_path), slot=RetrieverSlot())) as client:
        operation = client.get("/openapi.json").json()["paths"]["/v1/feedback"]["post"]
        assert operation["security"] == [{}, {"APIKeyHeader": []}]


def test_concurrent_posts_get_distinct_ids_and_are_all_kept(client, data_dir):
    def post(n: int) -> int:
        reply = client.post("/v1/feedback", json={**RATED, "question": f"Q{n}"})
        assert reply.status_code == 201, reply.text
        return reply.json()["id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(post, range(40)))
    assert len(set(ids)) == 40
    kept = list(read_feedback(data_dir / "feedback.sqlite3"))
    assert sorted(r.question for r in kept) == sorted(f"Q{n}" for n in range(40))


def _write_many(path: Path, writer: int, count: int) -> None:
    for n in range(count):
        record_feedback(path, FeedbackEntry(rating="up", question=f"{writer}/{n}", answer="A."))


def test_writers_in_several_processes_on_a_new_file_lose_nothing(tmp_path):
    """As `reformqa serve --workers N` does: each process opens the file itself, the first
    ones creating it and switching it to WAL while the others already write."""
    path = tmp_path / "new" / "feedback.sqlite3"
    fork = multiprocessing.get_context("fork")
    writers = [fork.Process(target=_write_many, args=(path, w, 25)) for w in range(6)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=60)
    assert [process.exitcode for process in writers] == [0] * 6
    kept = list(read_feedback(path))
    assert sorted(r.question for r in kept) == sorted(
        f"{w}/{n}" for w in range(6) for n in range(25)
    )
    assert [r.id for r in kept] == sorted({r.id for r in kept})
    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_export_help_names_the_formats_and_the_file(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["feedback", "export", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "--format {jsonl,csv}" in text and "--output FILE" in text
    assert "REFORMQA_FEEDBACK_DB" in text and "oldest first" in text
