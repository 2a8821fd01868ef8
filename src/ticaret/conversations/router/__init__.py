"""`/conversations` and `/attachments`: one router that `main.py` includes."""

from fastapi import APIRouter

from ticaret.conversations.router import attachments, conversations, messages

router = APIRouter()
router.include_router(conversations.router)
router.include_router(messages.router)
router.include_router(attachments.router)
