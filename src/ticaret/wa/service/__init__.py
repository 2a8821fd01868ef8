"""The rules of the WhatsApp domain, by area: they load and write through `wa.repository`, raise
`wa.errors`, emit `wa.events` and queue `wa.tasks`; they flush, never commit."""
