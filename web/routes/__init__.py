"""One blueprint per area, assembled in web/app.py."""
