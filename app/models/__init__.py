"""Running frozen models: GGUF files and their registry, the in-process llama.cpp runner,
remote inference endpoints and their attestation, the hot-swapping model manager, and the
saved contexts of conversations. Nothing here knows what a question or a citation is."""
