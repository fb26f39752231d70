"""The web console: static HTML, CSS and JavaScript served by the API app at ``/``.

No build chain: the files here are what the browser gets. The page talks to the same
REST API as every other client (it holds no privileges of its own).
"""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
