"""The FastAPI query service: thin routers over retrieval, generation and ingestion."""
