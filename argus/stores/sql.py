"""One SQL text for SQLite (embedded) and PostgreSQL (the server backend) behind the workflow
stores: `?` placeholders, and each dialect's substring test for the policy's pushed-down filters."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


class SqliteConnection:
    contains = "instr({col}, ?) > 0"

    def _open(self, path: Path) -> None:
        from argus.sqlite import connect

        self.db = connect(Path(path))

    def _x(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self.db.execute(sql, tuple(args))

    def close(self) -> None:
        self.db.close()


class PostgresConnection:
    """`postgresql://user:password@host:port/db` (libpq's URL; pip install -e '.[postgres]')."""

    contains = "strpos({col}, ?) > 0"

    def _open(self, url: str) -> None:
        import psycopg

        self.db = psycopg.connect(url, autocommit=True)

    def _x(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self.db.execute(sql.replace("?", "%s"), tuple(args))  # type: ignore[arg-type]

    def close(self) -> None:
        self.db.close()
