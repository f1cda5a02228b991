"""Quill bench."""
