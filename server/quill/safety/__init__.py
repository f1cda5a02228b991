"""Quill safety."""
