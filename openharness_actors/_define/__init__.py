"""Definition-time code: what can be known about a workflow before it runs.

Nothing here starts a task, publishes a signal or calls a harness.
"""
