"""Rows to response and event shapes."""

from __future__ import annotations

from ticaret.ai.schemas import AnalysisOut, FeedbackOut
from ticaret.core.envelope import from_row
from ticaret.models import AiAnalysis, AiAnalysisFeedback


def analysis_out(row: AiAnalysis, provider_session_id: str) -> AnalysisOut:
    return from_row(AnalysisOut, row, provider_session_id=provider_session_id)


def feedback_out(row: AiAnalysisFeedback) -> FeedbackOut:
    return FeedbackOut.model_validate(row)
