"""Payload helpers without ORM: hardened XML parsing, redaction."""
