"""Adapters to the world outside: agents over HTTPS, the LLM judge."""
