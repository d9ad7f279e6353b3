"""Model deployment: pre-flight checks, resumable upload, test-activate, health check,
confirm or roll back, and rollouts across many boards."""
