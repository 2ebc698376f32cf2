"""The command room: dispatch policies (pick a unit), the waiting queue and borrowing."""
