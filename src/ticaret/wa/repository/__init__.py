"""Every SQL statement of the WhatsApp domain, by area.

Chats, contacts and messages belong to a session: they are looked up by the session the caller
was already allowed to use (`service.access.resolve_wa`). Labels, their links and history belong
to an account and are scoped by it. Functions for jobs, which hold ids of rows we wrote, look
rows up by primary key and say so.
"""


def contains_pattern(q: str) -> str:
    """An ILIKE pattern matching `q` anywhere, with `q`'s own wildcards taken literally."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
