"""Models of the labeling app, split by subdomain; ``from labeling.models import X`` works
for every model and choice class."""

from labeling.models.core import *  # noqa: F403
from labeling.models.review import *  # noqa: F403
