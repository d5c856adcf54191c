"""`reformqa` as a user runs it: a real subprocess, real exit codes."""

import json

from tests.conftest import FIXTURE_CORPUS, run_cli


def test_help_answers():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("index", "search", "docs", "serve"):
        assert command in result.stdout


def test_search_json_and_human_output(fixture_settings):
    data = str(fixture_settings.data_dir)
    result = run_cli("search", "land certificates", "-k", "2", "--json", "--data-dir", data)
    assert result.returncode == 0, result.stderr
    passages = json.loads(result.stdout)["passages"]
    assert len(passages) == 2 and passages[0]["doc_id"] == "land_registry"
    human = run_cli("search", "land certificates", "-k", "1", "--data-dir", data)
    assert human.returncode == 0
    assert "[1]" in human.stdout and "Land registry goes online" in human.stdout


def test_docs_list(fixture_settings):
    result = run_cli("docs", "list", "--json", "--data-dir", str(fixture_settings.data_dir))
    documents = json.loads(result.stdout)["documents"]
    assert {d["id"] for d in documents} == {
        "budget_2024", "land_registry", "notes_without_front_matter", "vi_summary",
    }  # fmt: skip
    assert all("text" not in d for d in documents)


def test_build_is_skipped_when_up_to_date(fixture_settings):
    result = run_cli(
        "index", "build", "--if-stale", "--json",
        "--corpus", str(FIXTURE_CORPUS), "--data-dir", str(fixture_settings.data_dir),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["skipped"] is True


def _assert_one_line_error(result, fragment: str) -> None:
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], lines


def test_bad_input_exits_2_with_one_line(tmp_path, fixture_settings):
    data = str(fixture_settings.data_dir)
    _assert_one_line_error(run_cli("search", "  ", "--data-dir", data), "the query is empty")
    _assert_one_line_error(run_cli("search", "x", "-k", "0", "--data-dir", data), "k must be")
    _assert_one_line_error(
        run_cli("search", "x" * 2001, "--data-dir", data), "2001 characters long"
    )
    _assert_one_line_error(
        run_cli("search", "x", "--date-from", "2024-13-01", "--data-dir", data), "date_from"
    )
    _assert_one_line_error(run_cli("search", "x", "--data-dir", str(tmp_path)), "no index")


def test_bad_corpora_exit_2_and_write_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    data = tmp_path / "data"
    result = run_cli("index", "build", "--corpus", str(tmp_path / "empty"), "--data-dir", str(data))
    _assert_one_line_error(result, "no documents (.txt, .md")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "latin1.txt").write_bytes(b"Caf\xe9 au lait.")
    result = run_cli("index", "build", "--corpus", str(tmp_path / "bad"), "--data-dir", str(data))
    _assert_one_line_error(result, "latin1.txt is not UTF-8 text")
    assert not data.exists() or not any((data / "versions").glob("*"))


def test_bad_settings_exit_2(fixture_settings):
    result = run_cli("docs", "list", "--data-dir", str(fixture_settings.data_dir),
                     REFORMQA_CHUNK_TOKENS="lots")  # fmt: skip
    _assert_one_line_error(result, "REFORMQA_CHUNK_TOKENS='lots' is not a valid int")


def test_ask_prints_the_answer_and_its_sources(fixture_settings):
    data_dir = str(fixture_settings.data_dir)
    human = run_cli(
        "ask", "What percentage of applications were filed online?", "--data-dir", data_dir
    )
    assert human.returncode == 0, human.stderr
    assert "87.5%" in human.stdout and "*[1]" in human.stdout
    as_json = run_cli("ask", "How many clinics?", "--json", "--data-dir", data_dir)
    body = json.loads(as_json.stdout)
    assert body["answer"]["figures"][0]["value"] == 12
    assert run_cli("ask", "  ", "--data-dir", data_dir).returncode == 2


def test_ask_explains_the_stages_in_words_and_in_json(fixture_settings):
    data_dir = str(fixture_settings.data_dir)
    question = "How many land-use certificates are stored in Quang Ninh province?"
    human = run_cli("ask", question, "--explain", "--data-dir", data_dir)
    assert human.returncode == 0, human.stderr
    out = human.stdout
    assert "How it was answered: read as asking for a number" in out
    assert "removed by a constraint" in out and "do not mention Quang Ninh" in out
    assert "decision: decline (the passages with figures for this do not mention" in out
    as_json = json.loads(run_cli("ask", question, "--explain", "--json", "--data-dir",
                                 data_dir).stdout)  # fmt: skip
    explained = as_json["explanation"]
    assert explained["decision"] == "decline" and explained["removed"]
    plain = json.loads(run_cli("ask", question, "--json", "--data-dir", data_dir).stdout)
    assert "explanation" not in plain


def test_eval_help_is_the_eval_programs(fixture_settings):
    result = run_cli("eval", "--help")
    assert result.returncode == 0 and "--calibrate" in result.stdout


def test_an_impossible_date_in_a_corpus_file_names_the_file_and_the_field(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.md").write_text("---\ndate: 2024-02-29\n---\nThe council met.")
    (corpus / "feb30.md").write_text("---\ndate: 2024-02-30\n---\nThe council met.")
    result = run_cli(
        "index", "build", "--corpus", str(corpus), "--data-dir", str(tmp_path / "data")
    )
    _assert_one_line_error(result, "feb30.md: front matter field 'date' '2024-02-30'")


def test_an_index_build_with_the_exported_graph_needs_no_torch(tmp_path, embedder):
    embedder.warm_up()  # the ONNX graph is exported before the build looks for it
    built = run_cli("index", "build", "--corpus", str(FIXTURE_CORPUS), "--data-dir",
                    str(tmp_path / "data"), PYTHONPROFILEIMPORTTIME="1")  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    lines = [line for line in built.stderr.splitlines() if line.startswith("import time:")]
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines}
    assert "onnxruntime" in imported and "tokenizers" in imported
    assert not imported & {"torch", "transformers", "sentence_transformers", "sklearn"}
