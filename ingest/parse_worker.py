"""Files are parsed in a worker process with its own memory limit and a time limit per file.

A loader runs third-party parsers (openpyxl, python-docx, pypdf, lxml, the e-mail package)
on bytes anyone with an upload key chose. Run in the service's own process, one hostile
file could take its memory (a million-row workbook grew the server by gigabytes) or hold a
core and the GIL for minutes, and no thread can be stopped from outside. In a process of its
own, a parse that runs past ``LoaderBudget.seconds`` is killed, one that needs more than
``memory_mib`` gets a MemoryError there (the address-space limit), and either way the file
is refused with the reason while the service answers on. The worker is started once (a
fresh interpreter that imports only the loaders, no model or torch) and reused for every
file; a killed one is replaced on the next file.
"""

from __future__ import annotations

import logging
import os
import resource
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path

from ingest.loaders import DEFAULT_BUDGET, LoadedDocument, LoaderBudget, LoaderError, load_bytes

log = logging.getLogger("factvault.ingest")


def _serve(requests: Connection, replies: Connection, memory_bytes: int) -> None:
    """The worker's loop: (path, data, budget) in, ("ok", document) or ("refused", reason)
    out, until the parent closes the pipe."""
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    while True:
        try:
            path, data, budget = requests.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, object] = ("ok", load_bytes(path, data, budget))
        except LoaderError as exc:
            reply = ("refused", exc.reason)
        except MemoryError:
            reply = ("refused", f"over the loader budget: needed more than {memory_bytes >> 20} "
                     "MiB to parse (FACTVAULT_LOADER_MEMORY_MIB)")  # fmt: skip
        except RecursionError:
            reply = ("refused", "over the loader budget: nested too deeply to parse")
        except Exception as exc:  # a parser's own bug on odd input: this file only
            reply = ("refused", f"the parser failed on this file ({type(exc).__name__}: {exc})")
        del data
        try:
            replies.send(reply)
        except MemoryError:
            replies.send(("refused", "over the loader budget: the parsed text is too large"))


class ParseWorker:
    """One parse process, used by one ingest at a time (``load`` is serialised).

    Light constructor; ``warm_up()`` starts the process (else the first file does);
    ``close()`` stops it. ``memory_mib`` 0 means no memory limit."""

    def __init__(self, memory_mib: int = 1024) -> None:
        self.memory_mib = memory_mib
        self._process: subprocess.Popen[bytes] | None = None
        self._send: Connection | None = None
        self._conn: Connection | None = None  # replies
        self._lock = threading.Lock()
        self._closed = False

    def warm_up(self) -> ParseWorker:
        with self._lock:
            self._start()
        return self

    def _start(self) -> Connection:
        if self._closed:
            raise LoaderError("(parser)", "the parse worker was closed: the service is stopping")
        if self._process is None or self._process.poll() is not None or self._conn is None:
            self._stop()
            # A plain child interpreter (not multiprocessing's spawn, which would import the
            # parent's __main__ again), two pipes of pickled messages.
            child_reads, parent_writes = os.pipe()
            parent_reads, child_writes = os.pipe()
            process = subprocess.Popen(
                [sys.executable, "-m", "ingest.parse_worker", str(child_reads), str(child_writes),
                 str(self.memory_mib << 20)],
                pass_fds=(child_reads, child_writes), stdin=subprocess.DEVNULL,
            )  # fmt: skip
            os.close(child_reads)
            os.close(child_writes)
            self._process = process
            self._send = Connection(parent_writes, readable=False)
            self._conn = Connection(parent_reads, writable=False)
        return self._conn

    def load(
        self, path: Path, data: bytes, budget: LoaderBudget = DEFAULT_BUDGET
    ) -> LoadedDocument:
        """The parsed file, or LoaderError with the reason (over a limit, unreadable)."""
        with self._lock:
            conn = self._start()
            try:
                assert self._send is not None
                self._send.send((path, data, budget))
                if not conn.poll(budget.seconds):
                    self._stop()
                    raise LoaderError(
                        path, f"over the loader budget: parsing took longer than "
                        f"{budget.seconds:g} s (FACTVAULT_LOADER_SECONDS)",
                    )  # fmt: skip
                status, value = conn.recv()
            except (EOFError, OSError, BrokenPipeError) as exc:
                self._stop()
                stopping = " (the service is stopping)" if self._closed else ""
                raise LoaderError(path, f"the parse worker ended while reading this file"
                                  f"{stopping}") from exc  # fmt: skip
        if status != "ok":
            raise LoaderError(path, str(value))
        assert isinstance(value, LoadedDocument)
        return value

    def _stop(self) -> None:
        for conn in (self._send, self._conn):
            if conn is not None:
                conn.close()
        self._send = self._conn = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait(timeout=5)
            self._process = None

    def close(self) -> None:
        """Stop the worker now, even mid-file: the file being read is refused."""
        self._closed = True
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()  # unblocks a load() waiting on it; it then cleans up
        with self._lock:
            self._stop()


if __name__ == "__main__":
    _serve(
        Connection(int(sys.argv[1]), writable=False),
        Connection(int(sys.argv[2]), readable=False),
        int(sys.argv[3]),
    )
