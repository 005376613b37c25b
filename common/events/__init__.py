"""The event backbone: catalogue, transactional outbox, relay and idempotent consumers."""
