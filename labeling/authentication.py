"""API token authentication with the token -> user lookup kept in the shared cache.

DRF's ``TokenAuthentication`` reads the token and its user from the database on every request,
a query that costs more than the rest of a prompt GET's authentication together. Here the user
is cached (the default cache: Redis in production, so every web process shares it) for
``TOKEN_CACHE_SECONDS``, keyed by a hash of the token so the cache never holds a usable
credential. The entry is dropped at once when the token is deleted or its user is saved through
the ORM (password, ``is_active``, ``is_superuser``, deletion): the time limit only bounds changes
made with ``QuerySet.update()`` or SQL. When the cache is unreachable the database answers, as
before.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.core.cache import cache
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

logger = logging.getLogger(__name__)

TOKEN_CACHE_SECONDS = 60


def token_cache_key(key: str) -> str:
    return "labeling:token:" + hashlib.sha256(key.encode()).hexdigest()


class CachedTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, answered from the cache when it can be."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        cache_key = token_cache_key(key)
        try:
            user = cache.get(cache_key)
        except Exception:  # the cache is an optimisation here, never a dependency
            logger.warning("token cache unavailable", exc_info=True)
            return super().authenticate_credentials(key)
        if user is not None:
            return user, Token(key=key, user=user)
        user, token = super().authenticate_credentials(key)  # unknown or inactive: 401
        try:
            cache.set(cache_key, user, TOKEN_CACHE_SECONDS)
        except Exception:
            logger.warning("token cache unavailable", exc_info=True)
        return user, token


def forget_token(*, key: str) -> None:
    """Drop a token's cached user (its token was deleted, or its user changed)."""
    try:
        cache.delete(token_cache_key(key))
    except Exception:
        logger.warning("token cache unavailable; %s s until it expires", TOKEN_CACHE_SECONDS)


def on_token_changed(sender: type, instance: Token, **kwargs: object) -> None:
    forget_token(key=instance.key)


def on_user_saved(
    sender: type, instance: Any, created: bool = False, update_fields: Any = None, **kwargs: object
) -> None:
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return  # a new user has no token; a session login changes nothing a token request reads
    for key in Token.objects.filter(user_id=instance.pk).values_list("key", flat=True):
        forget_token(key=key)
