"""Quill gateway."""
