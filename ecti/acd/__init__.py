"""Automatic call distribution: queues, agents, routing strategies."""
