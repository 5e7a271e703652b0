"""The rules: pure Python, no AWS."""
