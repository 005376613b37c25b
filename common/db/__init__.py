"""Database helpers the services' hot paths share."""
