"""Mail: where messages go (transport)."""
