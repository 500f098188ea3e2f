"""Serializers of the labeling API, split by subdomain (``labeling.serializers.review``
holds those of reviews, selections and rating studies)."""

from labeling.serializers.core import *  # noqa: F403
