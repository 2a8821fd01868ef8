"""Graph API adapters (one per provider), their transport and the webhook parser."""

from ticaret.social.graph.base import SocialGraph
from ticaret.social.graph.errors import (
    GraphAuthError,
    GraphError,
    GraphRateLimited,
    GraphRefused,
    GraphResponseInvalid,
    GraphUnavailable,
)
from ticaret.social.graph.facebook import FacebookGraph
from ticaret.social.graph.instagram import InstagramGraph

__all__ = [
    "FacebookGraph",
    "GraphAuthError",
    "GraphError",
    "GraphRateLimited",
    "GraphRefused",
    "GraphResponseInvalid",
    "GraphUnavailable",
    "InstagramGraph",
    "SocialGraph",
]
