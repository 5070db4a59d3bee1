"""leadcap: accept a visitor's phone number in milliseconds and never lose it.

The package's top holds the shared core (settings, errors, retry, ids, keys, lead, logs,
groupcommit); each feature has a folder (intake/, verification/, campaign/, landing/,
webhooks/), operations (ops/) wire them together, worker/ runs the queue, stores/ holds every
driver. docs/architecture.md lists every module."""

__version__ = "0.1.0"
