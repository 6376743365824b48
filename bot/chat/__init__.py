"""Web chat: visitor tokens, storing a visitor's messages, and the history a visitor may read."""
