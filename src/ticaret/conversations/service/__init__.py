"""Rules of conversations, their messages and attachments; never commits."""
