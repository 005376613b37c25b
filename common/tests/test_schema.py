"""The OpenAPI schema documents the errors each operation can answer (common/api/schema.py)."""

from __future__ import annotations

import pytest
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from common.api.schema import AutoSchema, error_response
from common.auth.permissions import IsStaffOrReadOnly


class ThingSerializer(serializers.Serializer):
    name = serializers.CharField()


class PublicApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses=ThingSerializer)
    def get(self, request): ...


class ThingsApi(APIView):
    @extend_schema(
        responses=ThingSerializer(many=True),
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int), OpenApiParameter("city", str)],
    )
    def get(self, request): ...

    @extend_schema(request=ThingSerializer, responses={201: ThingSerializer, 401: error_response("Its own words.")})
    def post(self, request): ...


class ThingApi(APIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(responses=ThingSerializer)
    def get(self, request, thing_id): ...

    @extend_schema(responses={204: None})
    def delete(self, request, thing_id): ...


class RefusingSchema(AutoSchema):
    def view_errors(self):
        return {409: "Refused."}


class RefusingApi(APIView):
    schema = RefusingSchema()

    @extend_schema(request=None, responses={200: ThingSerializer})
    def post(self, request): ...


@pytest.fixture(scope="module")
def schema():
    patterns = [
        path("api/common/public/", PublicApi.as_view()),
        path("api/common/things/", ThingsApi.as_view()),
        path("api/common/things/<uuid:thing_id>/", ThingApi.as_view()),
        path("api/common/refusing/", RefusingApi.as_view()),
    ]
    return SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)


@pytest.mark.parametrize(
    ("route", "method", "statuses"),
    [
        # No token taken, nothing validated: only the outages and the gateway's URL limit.
        ("/api/common/public/", "get", {"200", "414", "502", "503", "504"}),
        # A filter is validated (400), a page may not exist (404); page and page_size alone never 400.
        ("/api/common/things/", "get", {"200", "400", "401", "404", "414", "502", "503", "504"}),
        # A body: validated (400), parsed as JSON (415), and refused over 1 MB by the gateway (413).
        ("/api/common/things/", "post", {"201", "400", "401", "413", "414", "415", "502", "503", "504"}),
        ("/api/common/things/{thing_id}/", "get", {"200", "401", "404", "414", "502", "503", "504"}),
        # Staff only for writes: 403 besides 401.
        ("/api/common/things/{thing_id}/", "delete", {"204", "401", "403", "404", "414", "502", "503", "504"}),
        # A kind of view adds its own.
        ("/api/common/refusing/", "post", {"200", "401", "409", "414", "502", "503", "504"}),
    ],
)
def test_each_operation_documents_the_errors_it_can_answer(schema, route, method, statuses):
    assert set(schema["paths"][route][method]["responses"]) == statuses


def test_errors_are_drf_shapes_and_a_views_own_declaration_wins(schema):
    responses = schema["paths"]["/api/common/things/"]["post"]["responses"]
    components = schema["components"]["schemas"]

    assert responses["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ValidationError"}
    assert responses["503"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert components["Error"]["properties"] == {"detail": {"type": "string"}}
    assert components["ValidationError"]["type"] == "object"
    assert responses["401"]["description"] == "Its own words."
