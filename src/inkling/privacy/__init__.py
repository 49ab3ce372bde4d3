"""Privacy by default: what Inkling keeps about a person, and for how long."""
