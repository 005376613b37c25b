"""OpenAPI: every service's bearer token, as drf-spectacular's security scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class StatelessJWTScheme(OpenApiAuthenticationExtension):
    target_class = "common.auth.authentication.StatelessJWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "RS256 access token from POST /api/auth/token/ (verified with the auth service's JWKS).",
        }
