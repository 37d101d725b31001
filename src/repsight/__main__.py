"""`python -m repsight` runs the command line."""

from repsight.cli import main

main()
