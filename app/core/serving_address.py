"""Where the server that owns a data dir listens, written into that data dir.

The embedded vector store belongs to one process, so while `factvault serve` runs the CLI
must go through its API. Settings name one host and port, but a server started with
``--port 9000`` listens elsewhere; the CLI would then miss it and fail on the locked store.
So the server records its address in ``<data_dir>/server.json`` once it listens and removes
it when it stops; a record left by a killed server names a process that is gone and is
ignored (and the address must still answer before the CLI uses it).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

RECORD = "server.json"
# A server bound to every interface is reached on loopback from this machine.
_ANY = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}


def url_for(host: str, port: int) -> str:
    host = _ANY.get(host, f"[{host}]" if ":" in host and not host.startswith("[") else host)
    return f"http://{host}:{port}"


def record_address(data_dir: Path, url: str) -> str | None:
    """Write this process's address (atomically: a reader never sees half a file). Returns
    why it could not (a read-only data dir, say): the server still serves, and the CLI then
    finds it only at the configured address."""
    path = data_dir / RECORD
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"url": url, "pid": os.getpid()}))
        tmp.chmod(0o600)
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        return str(exc)
    return None


def forget_address(data_dir: Path) -> None:
    """Remove the record if it is this process's (a newer server's record is left alone)."""
    path = data_dir / RECORD
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def recorded_address(data_dir: Path) -> str | None:
    """The URL a live server of this data dir recorded, or None (no record, unreadable, or
    its process is gone)."""
    try:
        record = json.loads((data_dir / RECORD).read_text())
        url, pid = str(record["url"]), int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, another user's
        pass
    return url
