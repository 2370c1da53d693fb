"""Argus: the kernel (contracts, topology, runtimes, backends, security, CLI).

Nothing here imports connectors/, processors/ or sinks/: they are found by name through the
`argus.nodes` entry-point group or a "module:Class" string in topology.yaml.
"""

__version__ = "0.1.0"
