from rest_framework import serializers

from .models import User, validate_publishable_email


class RegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254, validators=[validate_publishable_email])
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class UserOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name"]


class ProfileSerializer(serializers.ModelSerializer):
    """``me/``: the caller's profile; only ``email`` and ``full_name`` can be changed."""

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "is_staff", "date_joined"]
        read_only_fields = ["id", "is_staff", "date_joined"]
        # Uniqueness is checked case-insensitively by the service, not by a validator here.
        extra_kwargs = {"email": {"validators": [validate_publishable_email]}, "full_name": {"max_length": 200}}


class TokenObtainInputSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField()
