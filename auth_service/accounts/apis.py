"""Thin views of ``/api/auth/``: validate input, call a service, serialize."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from common.api.schema import error_response

from . import services, signing
from .selectors import user_get_active
from .serializers import (
    ProfileSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    TokenObtainInputSerializer,
    TokenPairSerializer,
    UserOutputSerializer,
)


class PublicAPIView(APIView):
    """No access token needed (and a stale one is ignored, not refused)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        # Wrong credentials or a bad refresh token are 401 (with a challenge), not 403.
        return "Bearer"


class RegisterApi(PublicAPIView):
    @extend_schema(request=RegisterInputSerializer, responses={201: UserOutputSerializer})
    def post(self, request):
        data = RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenObtainApi(PublicAPIView):
    @extend_schema(
        request=TokenObtainInputSerializer,
        responses={
            200: TokenPairSerializer,
            401: error_response("Wrong credentials."),
            429: error_response("Too many failed sign-ins from this address or for this account."),
        },
    )
    def post(self, request):
        data = TokenObtainInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pair = services.token_obtain(
            email=data.validated_data["email"],
            password=data.validated_data["password"],
            address=BaseThrottle().get_ident(request),
            request=request,
        )
        return Response(pair, status=status.HTTP_200_OK)


class TokenRefreshApi(PublicAPIView):
    @extend_schema(
        request=RefreshInputSerializer,
        responses={200: TokenPairSerializer, 401: error_response("The refresh token is invalid, expired or revoked.")},
    )
    def post(self, request):
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.token_refresh(refresh=data.validated_data["refresh"]), status=status.HTTP_200_OK)


class LogoutApi(PublicAPIView):
    """Holding the refresh token is the proof: no access token needed to sign out."""

    @extend_schema(
        request=RefreshInputSerializer,
        responses={205: None, 401: error_response("The refresh token is invalid, expired or revoked.")},
    )
    def post(self, request):
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.token_logout(refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_205_RESET_CONTENT)


class MeApi(APIView):
    def _user(self, request):
        user = user_get_active(user_id=request.user.id)
        if user is None:
            raise exceptions.AuthenticationFailed("User not found or inactive.", code="user_not_found")
        return user

    @extend_schema(responses={200: ProfileSerializer})
    def get(self, request):
        return Response(ProfileSerializer(self._user(request)).data)

    @extend_schema(request=ProfileSerializer, responses={200: ProfileSerializer})
    def patch(self, request):
        user = self._user(request)
        data = ProfileSerializer(user, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=user, **data.validated_data)
        return Response(ProfileSerializer(user).data)


class JwksApi(PublicAPIView):
    @extend_schema(
        responses={
            200: inline_serializer("Jwks", {"keys": serializers.ListField(child=serializers.DictField())}),
        }
    )
    def get(self, request):
        response = Response(signing.jwks())
        # Verifiers cache it anyway; a short max-age keeps a rotation visible within minutes.
        response["Cache-Control"] = "public, max-age=300"
        return response
