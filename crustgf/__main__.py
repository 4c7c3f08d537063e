"""`python -m crustgf` is the `crustgf` command."""

from crustgf.cli.main import main

main()
