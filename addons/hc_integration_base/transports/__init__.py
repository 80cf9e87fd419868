"""Transports to legacy systems, in plain Python (no ORM): REST (requests) and SOAP (zeep).

Every failure surfaces as :class:`~.errors.TransportError`, classified transient or permanent.
"""
