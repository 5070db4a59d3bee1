"""The read API: `GET /api/v1/leads` for teams that pull (a nightly CRM sync, a BI tool).

apikeys.py   keys: made, shown once, kept as a keyed hash; scopes; revocation
query.py     the query string (filters, limit) and the opaque cursor, checked as hostile input
pages.py     a page of leads in commit order, as the export writes them
limits.py    each key's rate limit (the intake's sliding window) and its use counts
"""
