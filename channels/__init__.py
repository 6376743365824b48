"""Rasa input/output channels: thin, they parse the wire format and call bot.*"""
