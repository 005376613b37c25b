"""Settings of the movie service; shared defaults come from ``common.config``."""

from common.config.env import env_bool, env_int
from common.config.settings import build_settings

globals().update(
    build_settings(
        "movie",
        apps=["movie_service.movies", "movie_service.cinemas", "movie_service.showtimes"],
    )
)

# A showtime ends this long after the film does: the screen is cleaned before the next one.
SHOWTIME_CLEANING_BUFFER_MINUTES = env_int("SHOWTIME_CLEANING_BUFFER_MINUTES", 15)

# Read endpoints are cached in the Django cache, invalidated by a version counter bumped after
# every committed write. Only a cache shared by every process (Redis) can be invalidated for all
# of them, so a process-local cache is not used for responses unless switched on explicitly.
_SHARED_CACHE = "redis" in globals()["CACHES"]["default"]["BACKEND"].lower()
CATALOGUE_CACHE = {
    "ENABLED": env_bool("CATALOGUE_CACHE_ENABLED", default=_SHARED_CACHE),
    "TIMEOUT": env_int("CATALOGUE_CACHE_TIMEOUT", 300),
}
