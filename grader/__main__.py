"""`python -m grader`: the same CLI as the `torchdrill` console script."""

from grader.cli import main

main()
