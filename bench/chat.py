"""What an official waits for in the chat: Debian's Chromium, driven by Playwright, against a
running `make run` (or `reformqa run`).

Measures the first load (navigation to the chat box shown) and, for N questions from
eval/questions.jsonl asked one after another in one conversation, the time from pressing Enter
to the answer drawn on the page (the API's own time included). Prints p50/p95/p99/mean in
milliseconds, the chat server's peak RSS and any console errors. Reports; never asserts.

    make run &   # then:
    .venv/bin/python bench/chat.py [--url http://127.0.0.1:8501] [-n 30] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from latency import machine, peak_rss_mib, stats

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update",
]  # fmt: skip
ANSWERS = ".rq-answer, .rq-notfound"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8501", help="the chat")
    parser.add_argument("-n", type=int, default=30, help="questions asked")
    parser.add_argument("--loads", type=int, default=5, help="first loads timed")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    questions = _questions(ROOT / "eval" / "questions.jsonl", args.n)
    report = {"machine": machine(), "url": args.url, "questions": len(questions)}
    report.update(_measure(args.url, questions, args.loads))
    report["chat_peak_rss_mib"] = _streamlit_peak_rss_mib()
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def _questions(path: Path, n: int) -> list[str]:
    """Questions that stand alone (no history), in file order, cycled to n."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    alone = [row["question"] for row in rows if not row.get("history")]
    return [alone[i % len(alone)] for i in range(n)]


def _measure(url: str, questions: list[str], loads: int) -> dict:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        load_ns = [_first_load(browser, url) for _ in range(loads)]
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(120_000)
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(url)
        box = page.get_by_test_id("stChatInputTextArea")
        box.wait_for()
        answer_ns = []
        for question in questions:
            shown = page.locator(ANSWERS).count()
            box.fill(question)
            started = time.perf_counter_ns()
            box.press("Enter")
            page.wait_for_function(
                "([css, n]) => document.querySelectorAll(css).length > n", arg=[ANSWERS, shown]
            )
            answer_ns.append(time.perf_counter_ns() - started)
            _wait_until_idle(page)
        browser.close()
    return {
        "first_load_ms": stats(load_ns),
        "question_to_answer_ms": stats(answer_ns),
        "console_errors": errors,
    }


def _wait_until_idle(page) -> None:
    """The rerun after an answer redraws the chat box: typing into it before then is lost
    (not counted in the timings)."""
    page.wait_for_timeout(2500)


def _first_load(browser, url: str) -> int:
    page = browser.new_page()
    started = time.perf_counter_ns()
    page.goto(url)
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
    elapsed = time.perf_counter_ns() - started
    page.close()
    return elapsed


def _streamlit_peak_rss_mib() -> float | None:
    found = subprocess.run(
        ["pgrep", "-f", "streamlit run"], capture_output=True, text=True, check=False
    ).stdout.split()
    return peak_rss_mib(int(found[0])) if found else None


if __name__ == "__main__":
    sys.exit(main())
