"""WhatTalk-compatible conversation list and history (`/compat/whattalk/...`)."""
