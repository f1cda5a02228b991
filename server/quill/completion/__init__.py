"""Quill completion."""
