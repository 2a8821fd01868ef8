"""Path parameters the agents' routes share."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path

AgentId = Annotated[uuid.UUID, Path(alias="agentId")]
RunId = Annotated[uuid.UUID, Path(alias="runId")]
