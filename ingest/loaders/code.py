"""Source code: sections start at each definition, with the enclosing definitions as trail.

A regex per language family, nested by indentation: not a parser, but enough to tell a
chunk it sits in ``class Foo > def bar`` for every mainstream language without a grammar
per language.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest.loaders.base import (
    DEFAULT_BUDGET,
    LoadedDocument,
    LoaderBudget,
    Section,
    decode_text,
    nested_sections,
)

LANGUAGES: dict[str, str] = {
    ".py": "python", ".pyi": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".tsx": "typescript",
    ".java": "java", ".kt": "kotlin", ".kts": "kotlin", ".scala": "scala", ".groovy": "groovy",
    ".cs": "csharp", ".go": "go", ".rs": "rust", ".swift": "swift", ".php": "php", ".rb": "ruby",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp",
    ".hxx": "cpp", ".m": "objc", ".sh": "shell", ".bash": "shell", ".sql": "sql",
    ".lua": "lua", ".r": "r", ".jl": "julia", ".ex": "elixir", ".exs": "elixir",
    ".erl": "erlang", ".hs": "haskell", ".ml": "ocaml", ".dart": "dart", ".zig": "zig",
    ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json", ".ini": "ini",
    ".cfg": "ini", ".proto": "protobuf", ".cmake": "cmake",
}  # fmt: skip

_MODS = (
    r"(?:(?:public|private|protected|internal|static|final|abstract|sealed|override|open|"
    r"data|synchronized|virtual|async|export|default|inline|extern|const|unsafe|pub(?:\([^)]*\))?)"
    r"\s+)*"
)
_DEFINITIONS = [
    re.compile(r"^(\s*)(?:async\s+)?(def|class)\s+(\w+)"),  # python
    re.compile(rf"^(\s*){_MODS}(fn|struct|enum|trait|impl|mod|union)\b\s*(?:<[^>]*>\s*)?([\w:]+)"),
    re.compile(r"^(\s*)(func)\s+(?:\([^)]*\)\s*)?(\w+)"),  # go
    re.compile(rf"^(\s*){_MODS}(function\*?|class|interface|enum|record|object|trait)\s+(\w+)"),
    re.compile(r"^(\s*)(class|struct|namespace)\s+(\w+)[^;]*$"),  # C++ (not forward decls)
    re.compile(r"^(\s*)(module|def)\s+(?:self\.)?([\w?!]+)"),  # ruby / elixir
    # A method or C function signature: return type, name, "(" and no ";" on the line.
    re.compile(rf"^(\s*){_MODS}()(?:[\w\[\]<>,.?*&:]+\s+)+\**([A-Za-z_][\w:~]*)\s*\([^;]*$"),
]
_NOT_NAMES = {"if", "for", "while", "switch", "catch", "return", "else", "new", "throw", "sizeof"}
_IMPORT = re.compile(
    r"^\s*(import\s|from\s+\S+\s+import\s|#include\s|use\s|using\s|package\s"
    r"|require\b|extern crate)"
)


def _definition(line: str) -> tuple[int, str] | None:
    for pattern in _DEFINITIONS:
        m = pattern.match(line)
        if m:
            name = m.group(3)
            if not name or name in _NOT_NAMES:
                continue
            kind = m.group(2)
            label = f"{kind} {name}" if kind else name
            return len(m.group(1).expandtabs(4)), label
    return None


def code_sections(text: str) -> list[Section]:
    return nested_sections(text, _definition)


def load_code(path: Path, data: bytes, budget: LoaderBudget = DEFAULT_BUDGET) -> LoadedDocument:
    text = decode_text(path, data)
    language = LANGUAGES.get(path.suffix.lower(), "text")
    imports = [line.strip() for line in text.splitlines() if _IMPORT.match(line)][:15]
    return LoadedDocument(
        text=text,
        title=path.name,
        media_type=f"text/x-{language}",
        sections=code_sections(text),
        language=language,
        imports=imports,
    )
