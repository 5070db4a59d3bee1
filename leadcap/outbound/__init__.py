"""Calls that leave the machine: one way to open their HTTP client (`client.session`), and the
SSRF guard (`guard`) it puts in front of every connection to an address somebody else chose (a
webhook endpoint). SMS providers and webhook receivers are posted to through it; notifications
will be too. Below the features that use it, above nothing but the core."""
