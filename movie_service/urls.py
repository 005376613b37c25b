from common.urls import service_urlpatterns

urlpatterns = service_urlpatterns("movie", "movie_service.movies.urls")
