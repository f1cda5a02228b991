"""Quill context."""
