"""`python -m crustgf` is the `crustgf` command."""

from .cli import main

main()
