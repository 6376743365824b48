"""Custom Rasa actions: thin, they read the tracker, call bot.* and return events."""
