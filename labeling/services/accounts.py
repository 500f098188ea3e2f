"""Writes on accounts: API tokens for scripts."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from rest_framework.authtoken.models import Token


@transaction.atomic
def token_get_or_create(*, user: AbstractBaseUser) -> Token:
    """The user's API token, created on first request (one token per user)."""
    token, _ = Token.objects.get_or_create(user=user)
    return token
