from django.urls import path

from auth_service.accounts.apis import JwksApi
from common.urls import service_urlpatterns

urlpatterns = [
    path(".well-known/jwks.json", JwksApi.as_view(), name="well-known-jwks"),
    *service_urlpatterns("auth", "auth_service.accounts.urls"),
]
