from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.response import Response


@api_view(["GET"])
def whoami(request):
    return Response({"user_id": str(request.user.id), "email": request.user.email, "is_staff": request.user.is_staff})


urlpatterns = [path("whoami/", whoami, name="whoami")]
