"""The event type catalogue over HTTP and in the OpenAPI document."""
