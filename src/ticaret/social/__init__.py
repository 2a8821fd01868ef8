"""Facebook Pages and Instagram: onboarding, webhooks, DMs, posts and media, comments."""
