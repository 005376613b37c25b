from django.urls import path

from auth_service.accounts.apis import JwksApi
from common.urls import ERROR_HANDLERS, service_urlpatterns

urlpatterns = [
    path(".well-known/jwks.json", JwksApi.as_view(), name="well-known-jwks"),
    *service_urlpatterns("auth", "auth_service.accounts.urls"),
]

handler400, handler404, handler500 = ERROR_HANDLERS
