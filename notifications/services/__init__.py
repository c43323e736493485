"""Services of the notifications app: ownership, the Slack directory and nudges."""
