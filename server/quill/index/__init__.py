"""Quill index."""
