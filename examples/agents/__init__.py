"""Example agents: a real signed-webhook HTTP server with one endpoint per job type (see server.py)."""
