"""Quill actions."""
