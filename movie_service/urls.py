from common.urls import ERROR_HANDLERS, service_urlpatterns

urlpatterns = service_urlpatterns("movie", "movie_service.movies.urls")

handler400, handler404, handler500 = ERROR_HANDLERS
