"""The assistant's business rules: plain functions the actions call."""
