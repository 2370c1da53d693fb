"""What the CLI shows a person at a terminal: tables, and progress on long work.

Output meant for a program (`--json`) never goes through here. Progress is drawn only on an
interactive terminal (stderr), so a log file or a pipe gets the one summary line and nothing
else; it refreshes when the work reports, never from a thread of its own, because the bulk
import forks only from a single-threaded process."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

REFRESH_EVERY = 0.1  # seconds between redraws: the work reports far more often than a person reads


def table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None, whole: Sequence[str] = ()
) -> None:
    """Rows under a header, to stdout. A long cell wraps inside its column and is never cut short;
    the `whole` columns (ids a person copies into the next command) are not even wrapped."""
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    cols = [
        Column(c, overflow="fold", no_wrap=c in whole, min_width=max((len(r[i]) for r in cells), default=0) or None)
        if c in whole
        else Column(c, overflow="fold")
        for i, c in enumerate(columns)
    ]
    t = Table(*cols, title=title, title_justify="left", header_style="bold", show_lines=False)
    for row in cells:
        t.add_row(*row)
    Console(soft_wrap=False).print(t)


@contextlib.contextmanager
def progress(what: str, total: int | None = None, unit: str = "records") -> Iterator[Callable[[int], None]]:
    """A bar (with `total`) or a running count (without) for `what`; yields `done(n)`, where n is
    how many are done so far. Off a terminal `done` does nothing."""
    console = Console(stderr=True)
    if not console.is_interactive:
        yield lambda n: None
        return
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    else:
        columns += [TextColumn("{task.completed:,.0f} " + unit)]
    columns.append(TimeElapsedColumn())
    last = 0.0
    with Progress(*columns, console=console, auto_refresh=False, transient=False) as bar:
        task = bar.add_task(what, total=total)

        def done(n: int) -> None:
            nonlocal last
            bar.update(task, completed=n)
            if time.monotonic() - last >= REFRESH_EVERY:
                last = time.monotonic()
                bar.refresh()

        yield done
        bar.refresh()
