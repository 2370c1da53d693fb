"""A real OpenC2 v1.1 consumer for the playbook tests: otupy's HTTPS transfer and SLPF actuator.

Run by tests/servers/openc2.py under a venv of its own. The SLPF actuator manager is otupy's own
(validation, rule database, scheduling, query features); its enforcement point records each rule
in a JSON file instead of a host firewall, so tests can read what was enforced without root.
"""

from __future__ import annotations

import importlib.util
import json
import os
import ssl
import sys
import types
from pathlib import Path

import otupy

# otupy's actuators package imports every cloud backend on import; load only the SLPF modules.
_actuators = types.ModuleType("otupy.actuators")
_actuators.__path__ = [str(Path(importlib.util.find_spec("otupy").origin).parent / "actuators")]
sys.modules["otupy.actuators"] = _actuators

import otupy.profiles.slpf  # noqa: E402  registers the profile
from otupy.actuators.slpf.slpf_actuator import SLPFActuator  # noqa: E402
from otupy.encoders.json import JSONEncoder  # noqa: E402
from otupy.transfers.http import HTTPSTransfer  # noqa: E402


class RecordingSlpf(SLPFActuator):
    """SLPF whose firewall is a JSON file of the rules in force."""

    def __init__(self, rules: Path, **kwargs: object) -> None:
        self.rules_path = rules
        super().__init__(**kwargs)

    def _write(self, rule: dict) -> None:
        rules = json.loads(self.rules_path.read_text()) if self.rules_path.exists() else []
        rules.append(rule)
        self.rules_path.write_text(json.dumps(rules))

    def execute_deny_command(self, target, direction, drop_process, custom_data):
        self._write({"action": "deny", "target": str(target), "direction": str(direction)})

    def execute_allow_command(self, target, direction, custom_data):
        self._write({"action": "allow", "target": str(target), "direction": str(direction)})

    def execute_delete_command(self, command_to_delete, custom_data):
        self._write({"action": "delete", "target": str(command_to_delete.target)})


def _tls(cert: str, key: str, client_ca: str | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    if client_ca:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_ca)
    return context


def main() -> None:
    port, state = int(sys.argv[1]), Path(sys.argv[2])
    os.environ["WERKZEUG_RUN_MAIN"] = "true"  # otupy initialises its SLPF manager only under this
    actuator = RecordingSlpf(
        rules=state / "rules.json",
        asset_id="argus-test-fw",
        db_path=str(state),
        db_name="slpf.sqlite",
        db_commands_table_name="commands",
        db_jobs_table_name="jobs",
        update_path=str(state),
    )
    del os.environ["WERKZEUG_RUN_MAIN"]  # the server itself runs in this process, not under a reloader
    transfer = HTTPSTransfer("127.0.0.1", port)
    transfer.ssl_context = _tls(str(state / "server.pem"), str(state / "server.key"), os.environ.get("CLIENT_CA"))
    import flask

    run = flask.Flask.run
    flask.Flask.run = lambda self, **kw: run(self, **{**kw, "debug": False, "use_reloader": False})
    consumer = otupy.Consumer(
        "argus-test-consumer", {(otupy.profiles.slpf.Profile.nsid, "argus-test-fw"): actuator}, JSONEncoder(), transfer
    )
    consumer.run()


if __name__ == "__main__":
    main()
