"""The operator's mutations, one per module: each checks what it is given, acts, and returns a
payload with the object it acted on or typed errors (`..payloads`)."""
