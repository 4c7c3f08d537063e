"""The `crustgf` command line (one click group) and its text summaries."""
