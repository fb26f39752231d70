"""The error every use case raises when a request cannot be served, with a stable code.

The API answers it as problem details with its status; the CLI prints its detail; the HTTP
client (when a running server owns the store) turns a problem response back into one.
"""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, status: int, code: str, detail: str, headers: dict | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers
