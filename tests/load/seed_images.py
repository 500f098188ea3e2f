"""Create a project with many images fast (PostgreSQL ``COPY``; ``bulk_create`` elsewhere).

The rows are what the list, filter, count and prompt endpoints read; no files are written
(``original``, ``display`` and ``thumbnail`` name files that do not exist, so renditions of
seeded images answer errors: use the upload API for those). Each image is 16x16, labelled
``normal``, ``abnormal`` or unlabelled, spread over the four splits; a fraction of them carry a
prompt (one accepted version) by the project's admin. Statistics are refreshed and the tables
vacuumed at the end, as autovacuum would do on a live server.

    python tests/load/seed_images.py --images 100000 --project big-100k --username perf-admin

Prints one JSON line: project id, user, token, image and prompt counts, seconds taken.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.load import inprocess

SIZE = 16
SPLITS = ("train",) * 7 + ("val", "test", "unassigned")
LABELS = ("normal", "abnormal", None)
VERSION_COLUMNS = [
    "prompt_id", "version", "status", "based_on", "author_id", "mask_png", "counts",
    "size_bytes", "created_at",
]  # fmt: skip


def _insert(model: type, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (values in the order of ``columns``, attribute names) in few round trips."""
    from django.db import connection

    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=2000
        )
        return
    from psycopg.types.json import Jsonb

    db_columns = ", ".join(model._meta.get_field(name).column for name in columns)
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {model._meta.db_table} ({db_columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([Jsonb(v) if isinstance(v, dict) else v for v in row])


def seed_user(username: str, *, superuser: bool = False) -> tuple[Any, str]:
    """The user (created when missing, password = username) and its API token."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        create = (
            user_model.objects.create_superuser if superuser else user_model.objects.create_user
        )
        user = create(username=username, password=username)
    return user, Token.objects.get_or_create(user=user)[0].key


def seed_project(
    *, name: str, images: int, user: Any, prompted: float = 0.3, seed: int = 0
) -> dict[str, Any]:
    """A new project ``name`` (``user`` its admin) with ``images`` images; returns a summary."""
    import numpy as np
    from django.db import connection, transaction

    from labeling import imaging, services
    from labeling.models import AttentionPrompt, Image, PromptVersion

    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with transaction.atomic():
        project = services.project_create(
            name=name, class_names=["normal", "abnormal"], creator=user
        )
        image_rows = []
        for i in range(images):
            path = f"seed/{project.pk}/{i:07d}.png"
            image_rows.append((
                project.pk, f"img-{i:07d}.png", path, path, path, "png", SIZE, SIZE,
                hashlib.sha256(f"{project.pk}:{i}".encode()).hexdigest(),
                rng.choice(LABELS), rng.choice(SPLITS), None, None, None, {}, user.pk,
                now - timedelta(seconds=images - i),
            ))  # fmt: skip
        image_columns = [
            "project_id", "name", "original", "display", "thumbnail", "format", "width", "height",
            "checksum", "label", "split", "frame_index", "window_center", "window_width",
            "metadata", "created_by_id", "created_at",
        ]  # fmt: skip
        _insert(Image, image_columns, image_rows)
        ids = list(
            Image.objects.filter(project=project).order_by("pk").values_list("pk", flat=True)
        )
        chosen = [pk for pk in ids if rng.random() < prompted]
        _insert(
            AttentionPrompt,
            ["image_id", "annotator_id", "target_class", "current_version", "updated_at"],
            [(pk, user.pk, "abnormal", 0, now) for pk in chosen],
        )
        mask = np.zeros((SIZE, SIZE), dtype=np.int8)
        mask[: SIZE // 2] = 1
        png, counts = imaging.prompt_to_png(mask), imaging.prompt_counts(mask)
        prompt_ids = AttentionPrompt.objects.filter(image__project=project).values_list(
            "pk", flat=True
        )
        _insert(
            PromptVersion,
            VERSION_COLUMNS,
            [(pk, 1, "accepted", 0, user.pk, png, counts, len(png), now) for pk in prompt_ids],
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE labeling_attentionprompt p SET current_id = v.id, current_version = 1"
                    " FROM labeling_promptversion v WHERE v.prompt_id = p.id AND p.image_id IN"
                    " (SELECT id FROM labeling_image WHERE project_id = %s)",
                    [project.pk],
                )
        else:  # small seeds only (tests on SQLite)
            versions = PromptVersion.objects.filter(prompt__image__project=project)
            for prompt_id, version_id in versions.values_list("prompt_id", "pk"):
                AttentionPrompt.objects.filter(pk=prompt_id).update(
                    current_id=version_id, current_version=1
                )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("labeling_image", "labeling_attentionprompt", "labeling_promptversion"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    return {
        "project": project.pk,
        "images": len(ids),
        "prompts": len(chosen),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = inprocess.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--project", default=None, help="default: seed-<images>-<time>")
    parser.add_argument("--username", default="perf-admin")
    parser.add_argument("--superuser", action="store_true")
    parser.add_argument("--prompted", type=float, default=0.3, help="fraction with a prompt")
    args = parser.parse_args()
    inprocess.start(args)
    user, token = seed_user(args.username, superuser=args.superuser)
    name = args.project or f"seed-{args.images}-{int(time.time())}"
    summary = seed_project(name=name, images=args.images, user=user, prompted=args.prompted)
    print(json.dumps({**summary, "user": user.username, "token": token}))


if __name__ == "__main__":
    main()
