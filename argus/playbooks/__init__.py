"""CACAO v2.0 playbooks: the model, validation against the official schemas and the rules they cannot
express, the executor, and the commands it dispatches (OpenC2 over HTTPS, HTTP APIs, manual tasks
for people in the workbench, and Argus's own actions)."""
