"""The engine core: one run's actors and their bookkeeping."""
