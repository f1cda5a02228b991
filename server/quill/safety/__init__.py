"""Safety: secret files and key-like strings are kept out of prompts."""
