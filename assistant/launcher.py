"""`reformqa run`: the API and the chat as two child processes, started and stopped together.

Ctrl-C (or SIGTERM) stops both; if either exits on its own, the other is stopped too and its
exit status is returned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from index.settings import Settings

CHAT_APP = Path(__file__).resolve().parent.parent / "ui" / "app.py"
STOP_SECONDS = 15
READY_SECONDS = 300


def run_api_and_chat(settings: Settings, workers: int = 1) -> int:
    env = {**os.environ, **settings.as_env(), "REFORMQA_API_URL": settings.api_base_url()}
    api = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--workers", str(workers)], env=env
    )
    chat = subprocess.Popen(_streamlit_command(settings), env=env)
    chat_url = f"http://{settings.ui_host}:{settings.ui_port}"
    print(f"Reform QA chat: {chat_url}", flush=True)
    print(f"Reform QA API:  {settings.api_base_url()}  (docs: /docs)", flush=True)
    print("Press Ctrl-C to stop both.", flush=True)
    stop = _stop_on_signal()
    try:
        if _wait_until_ready(settings.api_base_url() + "/readyz", chat_url + "/_stcore/health"):
            print(f"Ready: open {chat_url}", flush=True)
        return _wait_for_either(api, chat)
    except KeyboardInterrupt:
        return 0
    finally:
        stop.restore()
        _stop(api, chat)


def _streamlit_command(settings: Settings) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(CHAT_APP),
        "--server.address", settings.ui_host,
        "--server.port", str(settings.ui_port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",  # nothing leaves this machine
        "--client.toolbarMode", "minimal",
        "--theme.base", "light",
        "--theme.primaryColor", "#1f6feb",
    ]  # fmt: skip


class _stop_on_signal:
    """SIGINT and SIGTERM both raise KeyboardInterrupt, so both end the same way. SIGINT is set
    too because a shell starting this in the background (`make run &` in a script) hands it
    down ignored, and then Ctrl-C's signal would reach the children but not this process."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.previous = {s: signal.signal(s, self._interrupt) for s in self.SIGNALS}

    @staticmethod
    def _interrupt(signum, frame) -> None:
        raise KeyboardInterrupt

    def restore(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def _wait_until_ready(*urls: str) -> bool:
    deadline = time.monotonic() + READY_SECONDS
    pending = list(urls)
    while pending and time.monotonic() < deadline:
        pending = [url for url in pending if not _answers(url)]
        if pending:
            time.sleep(0.5)
    return not pending


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _wait_for_either(*processes: subprocess.Popen) -> int:
    while True:
        for process in processes:
            status = process.poll()
            if status is not None:
                return status
        time.sleep(0.5)


def _stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
