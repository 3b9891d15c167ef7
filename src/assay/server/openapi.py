"""The OpenAPI document of the server, as committed in ``openapi.json``.

``scripts/openapi`` runs this module to regenerate the file; ``--check`` (and
``tests/server/routes/test_openapi.py``) fail when the committed file and the app's
schema differ, so the published API reference never drifts from the code.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from assay.server.app import create_app
from assay.settings import Settings
from assay.store.engine import Store

DEFAULT_PATH = Path("openapi.json")
REGENERATE = "scripts/openapi"


def build_schema() -> dict[str, Any]:
    """The app's OpenAPI document.

    The app is built on a throwaway SQLite store that is never opened: the schema
    depends on the routes alone, not on the environment's database.
    """
    with tempfile.TemporaryDirectory(prefix="assay-openapi-") as folder:
        url = f"sqlite:///{Path(folder) / 'schema.db'}"
        store = Store(url)
        try:
            schema: dict[str, Any] = create_app(Settings(database_url=url), store).openapi()
        finally:
            store.dispose()
    return schema


def render(schema: dict[str, Any]) -> str:
    """The committed text of a schema: two-space JSON, UTF-8, ending in a newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, verify) the OpenAPI document.

    Returns:
        0 on success; 1 when ``--check`` finds the file missing or out of date.
    """
    parser = argparse.ArgumentParser(
        prog="python -m assay.server.openapi",
        description="Regenerate openapi.json from the assay server's routes.",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_PATH,
        help="File to write or check (default: openapi.json in the working directory).",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="Do not write; exit 1 if the file differs from the app's schema.",
    )
    args = parser.parse_args(argv)
    text = render(build_schema())
    path: Path = args.output
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            print(f"{path} is out of date; regenerate it with {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
