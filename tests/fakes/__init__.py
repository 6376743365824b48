"""Fakes of outside systems: real HTTP servers on loopback, loaded with recorded payloads."""
