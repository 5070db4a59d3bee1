"""leadcap: accept a visitor's phone number in milliseconds and never lose it."""

__version__ = "0.1.0"
