"""Request and response shapes of conversations, messages and attachments."""
