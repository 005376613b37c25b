"""Kubernetes manifests; generate.py writes the per-service parts of base/."""
