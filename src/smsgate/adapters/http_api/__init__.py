"""The REST API v1 (FastAPI) and, later, the compatibility dialects."""
