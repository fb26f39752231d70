"""`factvault reindex` and `factvault index rollback`, both ways (conftest.py)."""

from __future__ import annotations

import re

import pytest

from tests.cli.conftest import Way

pytestmark = pytest.mark.slow


def test_a_reindex_and_its_rollback(way: Way) -> None:
    built = way.run("reindex", "--embedder", "minilm")
    assert built.returncode == 0, built.stderr
    line = r"^active index: (\S+) \(\S*MiniLM\S*\), [1-9]\d* chunks, .*previous: (\S+)"
    switched = re.search(line, built.stdout, re.M)
    assert switched, built.stdout
    new, old = switched[1], switched[2]
    assert new != old

    back = way.run("index", "rollback")
    assert back.returncode == 0, back.stderr
    assert f"active index: {old}" in back.stdout and f"replaced: {new}" in back.stdout

    refused = way.run("reindex", "--embedder", "nonesuch")
    assert refused.returncode == 1 and "reindex refused (422)" in refused.stderr
