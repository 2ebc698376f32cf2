"""The call stream: calls drawn before the police respond, and the call record."""
