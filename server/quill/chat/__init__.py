"""Quill chat."""
