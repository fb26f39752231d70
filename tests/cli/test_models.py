"""`factvault models list/activate/add/endpoint`, both ways (conftest.py). The active model
is put back at the end: the other modules ask SmolLM2."""

from __future__ import annotations

import re

import pytest

from tests.cli.conftest import Way

pytestmark = pytest.mark.slow


def test_models_are_listed_and_activated(way: Way) -> None:
    def active() -> list[str]:
        listing = way.run("models", "list")
        assert listing.returncode == 0, listing.stderr
        rows = [line.split("\t") for line in listing.stdout.splitlines()[1:]]
        assert {"smollm2-135m", "qwen2.5-coder-0.5b"} <= {r[0] for r in rows}, listing.stdout
        assert all(r[5].endswith(".gguf") for r in rows)  # the path: this caller may see it
        return [r[0] for r in rows if r[1] == "yes"]

    assert active() == ["smollm2-135m"]
    swapped = way.run("models", "activate", "qwen2.5-coder-0.5b")
    assert swapped.returncode == 0, swapped.stderr
    said = "the running service now answers with" if way.name == "server" else "is the active"
    assert said in swapped.stdout
    assert active() == ["qwen2.5-coder-0.5b"]
    unknown = way.run("models", "activate", "no-such-model")
    assert unknown.returncode == 2 and "no-such-model" in unknown.stderr

    listing = way.run("models", "list").stdout
    gguf = next(line.split("\t")[5] for line in listing.splitlines() if "smollm2-135m" in line)
    added = way.run("models", "add", "--name", "smol-copy", gguf, local=True)  # SQL alone
    assert added.returncode == 0 and re.search(
        r"registered smol-copy \([0-9a-f]{12}, ", added.stdout
    )
    assert "smol-copy" in way.run("models", "list").stdout
    taken = way.run("models", "add", "--name", "smol-copy", gguf, local=True)
    assert taken.returncode == 2 and "smol-copy" in taken.stderr
    drain = way.run("models", "endpoint", "drain", "smollm2-135m", "http://127.0.0.1:9")
    assert drain.returncode == 2 and "has no endpoint http://127.0.0.1:9" in drain.stderr

    back = way.run("models", "activate", "smollm2-135m")  # as the other modules expect it
    assert back.returncode == 0 and active() == ["smollm2-135m"], back.stderr
