"""The benchmark's baselines: a bare Django project behind the same gateway and gunicorn settings."""
