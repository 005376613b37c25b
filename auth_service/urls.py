from django.urls import path

from auth_service.accounts.apis import JwksApi
from common.urls import service_urlpatterns

urlpatterns = [
    path(".well-known/jwks.json", JwksApi.as_view(), name="well-known-jwks"),
    *service_urlpatterns("auth", "auth_service.accounts.urls"),
]

# Unrouted /api/ paths and errors outside DRF answer in JSON (common/api/errors.py).
handler400 = "common.api.errors.bad_request"
handler404 = "common.api.errors.not_found"
handler500 = "common.api.errors.server_error"
