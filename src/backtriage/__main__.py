"""`python -m backtriage` runs the command line."""

from backtriage.interfaces.cli import main

main()
