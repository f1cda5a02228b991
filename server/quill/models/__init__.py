"""Model providers (embedded llama.cpp, OpenAI-compatible), probing and routing."""
