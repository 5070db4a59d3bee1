"""The lead worker: the Taskiq broker (broker.py), its one task (tasks.py) and the run loop
(run.py). The only package that imports taskiq. Its group-commit writer is leadcap/groupcommit.py,
which the webhook delivery loop and the web tier's verifier share."""
