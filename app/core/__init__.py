"""Storage and model-free infrastructure: settings, SQL metadata, vector store, encoders.

Nothing in here imports a web framework or an LLM runtime, so everything that stores
or retrieves can be tested without a model.
"""
