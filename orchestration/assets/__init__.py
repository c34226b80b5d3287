"""Asset definitions, one module per lineage group."""
