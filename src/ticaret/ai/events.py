"""Event types of the AI domain: an analysis finished, one way or the other.

An analysis belongs to one account (a shared session's message is analysed per account), so
its events go to that account alone.
"""

from __future__ import annotations

from ticaret.ai.schemas import AnalysisOut
from ticaret.core.events import event_type

ANALYSIS_COMPLETED = event_type(
    "ai.analysis.completed",
    "A customer message was analysed: intent, product matches, order draft, suggested reply.",
    AnalysisOut,
)
ANALYSIS_FAILED = event_type(
    "ai.analysis.failed",
    "A message's analysis failed for good (its attempts are spent, or the provider refused); "
    "`lastError` says why.",
    AnalysisOut,
)
