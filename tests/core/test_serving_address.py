"""The address a server records in its data dir, and how a record left behind is read."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from app.core.serving_address import (
    RECORD,
    forget_address,
    record_address,
    recorded_address,
    url_for,
)


def test_a_live_record_is_read_and_removed_by_its_writer(tmp_path: Path) -> None:
    record_address(tmp_path, "http://127.0.0.1:9123")
    assert recorded_address(tmp_path) == "http://127.0.0.1:9123"
    assert (tmp_path / RECORD).stat().st_mode & 0o777 == 0o600
    forget_address(tmp_path)
    assert recorded_address(tmp_path) is None and not (tmp_path / RECORD).exists()


def test_a_record_of_a_process_that_is_gone_is_ignored(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    (tmp_path / RECORD).write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": gone.pid}))
    assert recorded_address(tmp_path) is None


def test_another_servers_record_is_left_alone(tmp_path: Path) -> None:
    """A server stopping after a newer one started must not remove the newer one's record."""
    other = {"url": "http://127.0.0.1:9124", "pid": os.getppid()}
    (tmp_path / RECORD).write_text(json.dumps(other))
    forget_address(tmp_path)
    assert recorded_address(tmp_path) == other["url"]


def test_unreadable_records_count_as_none(tmp_path: Path) -> None:
    assert recorded_address(tmp_path) is None  # no file
    for text in ("{", "[]", '{"url": "x"}', '{"url": "x", "pid": "not a pid"}'):
        (tmp_path / RECORD).write_text(text)
        assert recorded_address(tmp_path) is None, text


def test_a_server_on_every_interface_is_reached_on_loopback() -> None:
    assert url_for("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert url_for("::", 8000) == "http://[::1]:8000"
    assert url_for("::1", 8000) == "http://[::1]:8000"
    assert url_for("10.1.2.3", 80) == "http://10.1.2.3:80"


def test_a_data_dir_that_cannot_be_written_is_reported_not_raised(tmp_path: Path) -> None:
    missing = tmp_path / "not-there"
    problem = record_address(missing, "http://127.0.0.1:9125")
    assert problem and "not-there" in problem
    assert recorded_address(missing) is None
