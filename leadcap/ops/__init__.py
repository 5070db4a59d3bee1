"""Running leadcap: what a process opens, how it reports its health, and what it keeps aside.

`services` (`Services`) is the composition root: it opens every store a command needs and builds
the features on them (the intake, the verifier, the request log); the web app, the worker and the
CLI each open one. `health` checks the stores, the workers' heartbeats and the webhook backlog;
`requestlog` buffers request and task logs for MongoDB; `deadletters` keeps what PostgreSQL
refused for good; `embedded` starts the stores as child processes when no URL is given.

It sits above the features (it wires them together) and below the worker, which runs on it.
"""
