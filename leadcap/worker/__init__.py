"""The lead worker: the Taskiq broker (broker.py), its one task (tasks.py), the group-commit
writer (groupcommit.py) and the run loop (run.py). The only package that imports taskiq."""
