"""The campaign view: what the campaign brought in, and the people who work its leads.

`stats` reads the figures (per day, hour, source or campaign) from the rollups, `visits` and
`outcomes` count unique visitors and the intake's answers in process and flush them about once a
second (`flushing`), `leadbook` is /admin/'s leads table, `export` writes leads as CSV or JSON
Lines (`leadcap export-leads`, and the leadbook's CSV), `admin_users` and `admin_sessions` say who
may sign in to /admin/ and keep their sessions.
"""
