"""What MWAA runs: the DAG files, a constrained ``requirements.txt``, and ``plugins.zip``."""
