"""Multipart uploads streamed to disk as they arrive, each file held to its limit.

Starlette's form parser spools every file whole, with no per-file limit, before the route
sees any of them. This reader feeds the request stream to python-multipart's push parser and
writes each file part to its own file in a private spool directory while it arrives: a part
that grows past the per-file limit stops the request there (413, naming the file), and so
does one file too many. The request's total is the guard's upload budget (guard.py). Files
are then ingested one at a time from disk, so a request never holds its files in memory.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from app.api.problems import ApiError

FIELD = "files"
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")

# The request body as the OpenAPI schema publishes it (the route reads the stream itself).
OPENAPI_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    "properties": {
                        FIELD: {
                            "type": "array",
                            "items": {
                                "type": "string",
                                "contentMediaType": "application/octet-stream",
                            },
                        }
                    },
                }
            }
        },
    }
}


def safe_name(raw: str | None) -> str:
    """The file's base name only: no directories, no control characters, no dot-files.

    A name that had to be changed gets a short hash of the name as sent, so two different
    names never become the same stored document (``a?b.md`` and ``a*b.md`` stay apart);
    a name that needed no change is kept as it is, so re-uploading it updates the document.
    """
    base = PurePosixPath((raw or "").replace("\\", "/")).name
    name = _UNSAFE.sub("_", base).strip(" .")
    if not name:
        raise ApiError(400, "bad_upload", f"unusable file name {raw!r}")
    name = name[:200]
    if name != base:
        stem, dot, suffix = name.rpartition(".")
        tag = hashlib.sha256(base.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        name = f"{stem}-{tag}.{suffix}" if dot and stem else f"{name}-{tag}"
    return name


@dataclass
class SpooledFile:
    name: str  # the safe name it is stored under
    path: Path
    size: int = 0


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    field_name: bytes = b""
    file: SpooledFile | None = None
    out: BinaryIO | None = None


class UploadReader:
    def __init__(self, spool_dir: Path, max_file_bytes: int, max_files: int) -> None:
        self.spool_dir = spool_dir
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self.files: list[SpooledFile] = []
        self.duplicates: list[str] = []  # names sent twice in one request (not stored twice)
        self._part = _Part()
        self._header_name = b""
        self._header_value = b""

    async def read(self, request: Request) -> list[SpooledFile]:
        _, params = parse_options_header(request.headers.get("content-type", ""))
        boundary = params.get(b"boundary")
        if not boundary:
            raise ApiError(422, "validation_error", "body: a multipart/form-data upload is needed")
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_part,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
                "on_part_end": self._end,
            },
        )
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        except MultipartParseError as exc:
            raise ApiError(422, "validation_error", f"body: malformed multipart ({exc})") from exc
        finally:
            if self._part.out is not None:
                self._part.out.close()
        if not self.files and not self.duplicates:
            raise ApiError(422, "validation_error", f"body.{FIELD}: no file in the upload")
        return self.files

    def _begin(self) -> None:
        self._part = _Part()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._part.headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._part.headers.get(b"content-disposition", b""))
        if options.get(b"name") != FIELD.encode() or b"filename" not in options:
            raise ApiError(
                422, "validation_error", f"body: only file parts named {FIELD!r} are accepted"
            )
        if len(self.files) + len(self.duplicates) >= self.max_files:
            raise ApiError(
                413, "upload_too_large", f"more than {self.max_files} files in one upload"
            )
        name = safe_name(options[b"filename"].decode("utf-8", "replace"))
        if any(f.name == name for f in self.files):
            self.duplicates.append(name)
            return  # its bytes are read and dropped; the result reports it
        folder = self.spool_dir / str(len(self.files))
        folder.mkdir(mode=0o700)
        self._part.file = SpooledFile(name, folder / name)
        self._part.out = self._part.file.path.open("wb")

    def _data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        if part.file is None or part.out is None:
            return
        part.file.size += end - start
        if part.file.size > self.max_file_bytes:
            raise ApiError(
                413, "upload_too_large", f"{part.file.name}: larger than {self.max_file_bytes:,} "
                "bytes",
            )  # fmt: skip
        part.out.write(data[start:end])  # page-cache writes of ≤64 KiB: not worth a thread

    def _end(self) -> None:
        if self._part.out is not None:
            self._part.out.close()
            self._part.out = None
        if self._part.file is not None:
            self.files.append(self._part.file)
