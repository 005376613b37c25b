"""Settings of the movie service; shared defaults come from ``common.config``."""

from common.config.settings import build_settings

globals().update(build_settings("movie", apps=["movie_service.movies"]))
