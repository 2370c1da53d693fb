"""`python -m bench`: every speed target in one command (pipeline, stores and API, STIX
import, the Kafka runtime, the audit trail, the workbench); `python -m bench NAME [options]` runs
one: pipeline, stores, stix, kafka, ttp, audit, libraries, workbench, er, sar, risk, deconfliction, messaging,
playbooks."""

import sys

from bench import (
    audit,
    deconfliction,
    er,
    kafka,
    libraries,
    messaging,
    pipeline,
    playbooks,
    risk,
    sar,
    stix_import,
    stores,
    ttp,
    workbench,
)

args = sys.argv[1:]
ONE = {
    "pipeline": pipeline.main,
    "stores": stores.main,
    "stix": stix_import.main,
    "kafka": kafka.main,
    "ttp": ttp.main,
    "audit": audit.main,
    "libraries": libraries.main,
    "workbench": workbench.main,
    "er": er.main,
    "sar": sar.main,
    "risk": risk.main,
    "deconfliction": deconfliction.main,
    "messaging": messaging.main,
    "playbooks": playbooks.main,
}
if args and args[0] in ONE:
    ONE[args[0]](args[1:])
else:
    pipeline.main(args)
    stores.main([a for a in args if a.startswith("--records")] or None)
    stix_import.main([])
    ttp.main([])
    audit.main([])
    kafka.main([a for a in args if a.startswith("--records")])
    workbench.main([])
