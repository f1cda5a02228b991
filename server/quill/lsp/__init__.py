"""Quill lsp."""
