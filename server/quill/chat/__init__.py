"""Quill chat, transport-free: :class:`quill.chat.service.ChatService` (sessions, context,
streamed answers), ``turn`` (one streamed, stoppable answer), ``store`` (SQLite memory),
``history`` and ``summary`` (trimming, the running summary), ``gather`` and ``mentions``
(the context of a question), ``thinking`` (reasoning models), ``export``, ``repetition``."""
