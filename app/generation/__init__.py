"""Everything that touches a language model: GGUF files, the registry, llama.cpp, prompts."""
