"""`python -m app.cli`: the same command as `factvault`."""

from app.cli import main

main()
