"""Quill completion: the transport-free parts of the inline-completion pipeline.

gate (whether and how much to complete), debounce (when), cache (type-through), fim (the
prompt), postfilter (what to show) and context_budget (how much fits). Nothing here knows
about LSP or HTTP.
"""

from quill.completion.cache import CacheHit, CacheKey, CacheStats, CompletionCache
from quill.completion.context_budget import ContextSection, cut_prefix_suffix, fit_sections
from quill.completion.debounce import AdaptiveDebouncer, RequestSupervisor, SupervisorStats
from quill.completion.fim import (
    FILL_MARKER,
    FimTemplate,
    build_hole_filler_messages,
    extract_hole_filler_answer,
    fim_template_for_family,
    load_fim_templates,
    select_fim_template,
)
from quill.completion.gate import GateDecision, decide
from quill.completion.postfilter import postprocess

__all__ = [
    "FILL_MARKER",
    "AdaptiveDebouncer",
    "CacheHit",
    "CacheKey",
    "CacheStats",
    "CompletionCache",
    "ContextSection",
    "FimTemplate",
    "GateDecision",
    "RequestSupervisor",
    "SupervisorStats",
    "build_hole_filler_messages",
    "cut_prefix_suffix",
    "decide",
    "extract_hole_filler_answer",
    "fim_template_for_family",
    "fit_sections",
    "load_fim_templates",
    "postprocess",
    "select_fim_template",
]
