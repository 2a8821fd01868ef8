"""Routes that answer in another product's shapes, so its clients work unchanged."""
