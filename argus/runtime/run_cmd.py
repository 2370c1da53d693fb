"""`argus run`: the runtime as a long-running process under a supervisor. On the embedded bus one
process runs every task, or two share the bus (`--part alerts` and `--part stores`); on Kafka
each process is a worker of a group sharing the tasks. Exit codes are the supervisor's contract:
2 a topology or schema it must not start on, 3 a source that cannot deliver, 75 try again."""

from __future__ import annotations

import faulthandler
import fcntl
import os
import signal
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import orjson
import typer

from argus import console, logs
from argus.bus.base import RegistryUnavailable
from argus.load import DataOpt, LogFormatOpt, TopoOpt, load_checked
from argus.runtime.assignment import PARTS, Part
from argus.schemas import SchemaError
from argus.topology import Topology, embedded_path

if TYPE_CHECKING:
    from argus.runtime.core import Runtime

STOP_STACKS_AFTER = 30.0  # seconds: systemd's and Kubernetes' default grace periods are 90 and 30


def run_cmd(
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
    metrics_port: Annotated[int | None, typer.Option(help="Serve /metrics here (0: off)")] = None,
    metrics_host: Annotated[
        str | None, typer.Option(help="Address /metrics listens on (default: topology metrics_host, 127.0.0.1)")
    ] = None,
    until_idle: Annotated[bool, typer.Option(help="Stop when all input is processed")] = False,
    log_level: Annotated[str, typer.Option()] = "INFO",
    log_format: LogFormatOpt = "json",
    instance: Annotated[
        str | None,
        typer.Option(
            help="Kafka: this worker's stable name in the group (a restart under it takes its tasks back at once)"
        ),
    ] = None,
    cpu_report: Annotated[
        Path | None,
        typer.Option(help="On exit, write the CPU seconds each task used here (JSON; bench/kafka.py reads it)"),
    ] = None,
    part: Annotated[
        str,
        typer.Option(
            help="Embedded bus: every task (all), or the path to an officer's alert (alerts) and the stores"
            " with the analyses feeding them (stores) in two processes, one `argus run` each"
        ),
    ] = "all",
) -> None:
    """Run topology.yaml continuously, serving Prometheus /metrics. On the embedded bus, one
    process runs everything, or two share it (--part); on Kafka, each process is a worker of a
    group sharing the tasks."""
    logs.configure(log_level, log_format)
    topo = load_checked(topology, data_dir)
    _check_part(topo, part)
    held = _hold_parts(topo, part)
    _serve_metrics(topo, metrics_port, metrics_host)
    rt = _open(topo, part, instance)
    _on_signals(rt)
    try:
        if until_idle:
            _until_idle(rt, topo)
        else:
            typer.echo(f"running {topo.model.name} on {topo.bus_url} (Ctrl-C to stop)", err=True)
            rt.run_forever()
    except KeyboardInterrupt:
        pass
    except RegistryUnavailable as exc:
        # A record framed with a registry id this process has not met (an upstream producer's
        # new version) and the registry down: it cannot be read, and must not be passed over.
        # Nothing more is committed (the batch in hand may be part done); the open
        # transactions are aborted when the tasks are next claimed, as after a SIGKILL.
        print(f"stopping: {exc}; exiting 75 for the supervisor to restart this worker", file=sys.stderr, flush=True)
        os._exit(75)
    finally:
        rt.close()
        for f in held:
            f.close()  # the part is free for the next `argus run`
        faulthandler.cancel_dump_traceback_later()
        if cpu_report is not None:
            used = {t: round(s, 3) for t, s in sorted(rt.task_cpu.items())}
            cpu_report.write_bytes(orjson.dumps(used, option=orjson.OPT_INDENT_2))


def _check_part(topo: Topology, part: str) -> None:
    kafka = topo.bus_url.startswith("kafka:")
    if part not in PARTS or (kafka and part != "all"):
        why = "on Kafka the group shares the tasks: start more workers" if kafka else f"one of {', '.join(PARTS)}"
        typer.echo(f"--part {part!r}: {why}", err=True)
        raise typer.Exit(2)


def _hold_parts(topo: Topology, part: str) -> list[IO[str]]:
    """One `argus run` per part of an embedded bus: the bus has no owner for a task (Kafka's
    transactions fence a second one), so a second process running the same tasks would process
    their records twice. A lock file beside the bus per part; the kernel lets go of it when the
    process ends, however it ends."""
    if topo.bus_url.startswith("kafka:"):
        return []
    bus = embedded_path(topo.bus_url)
    bus.parent.mkdir(parents=True, exist_ok=True)
    held = []
    for p in ("alerts", "stores") if part == "all" else (part,):
        f = (bus.parent / f"{bus.name}.run-{p}.lock").open("a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            typer.echo(f"another `argus run` is running the {p} part of {bus}: not starting a second", err=True)
            raise typer.Exit(2) from None
        held.append(f)
    return held


def _serve_metrics(topo: Topology, metrics_port: int | None, metrics_host: str | None) -> None:
    from argus import metrics

    port = metrics_port if metrics_port is not None else topo.model.metrics_port
    if port:
        where = metrics_host or os.environ.get("ARGUS_METRICS_HOST") or topo.model.metrics_host
        try:
            metrics.serve(port, where)
        except OSError as exc:  # two processes on one host (--part alerts and --part stores): one port each
            why = f"{exc.strerror}; give this process a port of its own"
            typer.echo(f"--metrics-port {port} on {where}: {why}", err=True)
            raise typer.Exit(2) from None
        typer.echo(f"metrics on http://{where}:{port}/metrics", err=True)


def _open(topo: Topology, part: str, instance: str | None) -> Runtime:
    """The runtime this process is: every task, a part of them, or a group's worker (Kafka)."""
    from argus.runtime.core import Runtime

    try:
        if topo.bus_url.startswith("kafka:"):
            from argus.runtime.worker import group_worker

            return group_worker(topo, instance).open()
        return Runtime(topo, assignment=Part(part)).open()
    except SchemaError as exc:  # incompatible schemas, or a registry refusing one: nothing produced
        typer.echo(f"not starting: {exc}", err=True)
        raise typer.Exit(2) from None
    except RegistryUnavailable as exc:  # for the supervisor to try again, as after a hung commit
        typer.echo(f"not starting: {exc}", err=True)
        raise typer.Exit(75) from None


def _on_signals(rt: Runtime) -> None:
    # The process's own stderr (the journal under systemd), not a stand-in without a file
    # descriptor such as a test runner's capture: faulthandler writes from C, to a descriptor.
    stacks_to = sys.__stderr__ if sys.__stderr__ is not None and not sys.__stderr__.closed else None

    def on_term(*_: object) -> None:
        rt.stop()  # the batch in hand finishes and commits; held batches commit at close
        # A stop that has not finished in STOP_STACKS_AFTER prints every thread's stack once,
        # so the log of a worker its supervisor then kills says where it was stuck.
        if stacks_to is not None:
            faulthandler.dump_traceback_later(STOP_STACKS_AFTER, exit=False, file=stacks_to)

    signal.signal(signal.SIGTERM, on_term)
    if stacks_to is not None:
        # `kill -USR1 <pid>`: every thread's stack, for a worker that is up but not moving.
        faulthandler.register(signal.SIGUSR1, all_threads=True, file=stacks_to)


def _until_idle(rt: Runtime, topo: Topology) -> None:
    with console.progress(f"running {topo.model.name} until idle", unit="records handled") as done:
        rt.run_until_idle(on_step=done)
    ingested, dead = rt.ingest_counts()
    typer.echo(f"ingested {ingested} records, {dead} dead-lettered; lag {sum(rt.lag().values())}")
    problems = rt.source_problems()
    for p in problems:
        typer.echo(f"not delivering: {p}", err=True)
    if problems:
        raise typer.Exit(3)
