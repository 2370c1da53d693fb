"""Named pipeline definitions (YAML) that topology files include."""
