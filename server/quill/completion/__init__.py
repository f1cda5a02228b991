"""Quill completion: the transport-free parts of the inline-completion pipeline.

gate (whether and how much to complete), debounce (when), cache (type-through), answers
(cleaning a hole-filler reply), postfilter (what to show).
Nothing here knows about LSP or HTTP. Prompts are rendered by :mod:`quill.context.prompt`.
"""

from quill.completion.answers import extract_hole_filler_answer
from quill.completion.cache import CacheHit, CacheKey, CacheStats, CompletionCache
from quill.completion.debounce import AdaptiveDebouncer, RequestSupervisor, SupervisorStats
from quill.completion.gate import GateDecision, decide
from quill.completion.postfilter import postprocess
from quill.context.budget import ContextSection, cut_prefix_suffix, fit_sections

__all__ = [
    "AdaptiveDebouncer",
    "CacheHit",
    "CacheKey",
    "CacheStats",
    "CompletionCache",
    "ContextSection",
    "GateDecision",
    "RequestSupervisor",
    "SupervisorStats",
    "cut_prefix_suffix",
    "decide",
    "extract_hole_filler_answer",
    "fit_sections",
    "postprocess",
]
