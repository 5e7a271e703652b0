"""Entities (what the domain works with) and API request/response models (what drives OpenAPI)."""
