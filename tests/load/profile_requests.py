"""CPU and wall time per request of the three hot requests, in-process, production settings.

The load generator (``loadgen.py``) measures latency at a fixed arrival rate, which on a shared
machine says more about the neighbours than about Sightline. This script measures what one
request costs: the WSGI application is called directly (no HTTP server, no client), on
PostgreSQL with the Redis cache, DEBUG off, token authentication, the JSON request log and the
prometheus multiprocess histogram, as ``deploy/run-prod.sh`` runs them. For each request it
prints the mean and p99 CPU time of this process, wall time, the PostgreSQL backend's CPU per
request (mean, from ``/proc``) and the number of SQL queries:

- ``images``: ``GET /api/v1/projects/<id>/images/?page_size=50`` (page 1 of 50 rows)
- ``prompt_get``: ``GET /api/v1/images/<id>/prompts/mine/?target_class=abnormal``
- ``prompt_save``: ``PUT`` of the same with a JSON RLE mask and ``If-Match: "<version>"``

    python tests/load/profile_requests.py                   # figures, 500 requests each
    python tests/load/profile_requests.py --profile images  # plus cProfile's top functions

Needs PostgreSQL (``--database-url``, default the ``perf`` database) and Redis (``--cache-url``).
The caller is a superuser who created the project, as in ``loadgen.py``; ``--member`` makes it
a plain member (the project's admin), which is the path most users take.
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.load import inprocess

SIZE = 16
RLE = {"width": SIZE, "height": SIZE, "rle": [[1, SIZE * SIZE // 2], [0, SIZE * SIZE // 2]]}


def scenarios(app: Callable, token: str, project: int, images: list[int]) -> dict[str, Callable]:
    """One callable per request kind, taking the request's index."""
    versions = dict.fromkeys(images, 1)
    body = json.dumps({"mask": RLE}).encode()

    def images_list(i: int) -> inprocess.Reply:
        return inprocess.wsgi_call(
            app, "GET", f"/api/v1/projects/{project}/images/?page_size=50", token=token
        )

    def prompt_get(i: int) -> inprocess.Reply:
        image = images[i % len(images)]
        path = f"/api/v1/images/{image}/prompts/mine/?target_class=abnormal"
        return inprocess.wsgi_call(app, "GET", path, token=token)

    def prompt_save(i: int) -> inprocess.Reply:
        image = images[i % len(images)]
        path = f"/api/v1/images/{image}/prompts/mine/?target_class=abnormal"
        reply = inprocess.wsgi_call(
            app,
            "PUT",
            path,
            token=token,
            body=body,
            content_type="application/json",
            headers={"If-Match": f'"{versions[image]}"'},
        )
        if reply.status == 200:
            versions[image] = int(reply.headers["etag"].strip('"'))
        return reply

    return {"images": images_list, "prompt_get": prompt_get, "prompt_save": prompt_save}


def profile(name: str, n: int, one: Callable[[int], inprocess.Reply], top: int) -> str:
    """cProfile's view of ``n`` requests: top functions by own time and by cumulative time."""
    profiler = cProfile.Profile(time.process_time)  # CPU, not waits on the database
    profiler.enable()
    for i in range(n):
        one(i)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs()
    out.write(f"=== {name}: {n} requests, by own time ===\n")
    stats.sort_stats("tottime").print_stats(top)
    out.write(f"=== {name}: by cumulative time ===\n")
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = inprocess.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="measured requests per kind")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--images", type=int, default=200, help="images in the project")
    parser.add_argument("--only", default="images,prompt_get,prompt_save")
    parser.add_argument("--member", action="store_true", help="act as a member, not superuser")
    parser.add_argument("--profile", default="", help="comma-separated kinds to cProfile")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()

    application = inprocess.start(args)
    from tests.load import seed_images

    username = "perf-member" if args.member else "perf-super"
    user, token = seed_images.seed_user(username, superuser=not args.member)
    seeded = seed_images.seed_project(
        name=f"profile-{int(time.time() * 1000)}", images=args.images, user=user, prompted=1.0
    )
    from labeling.models import Image

    images = list(
        Image.objects.filter(project_id=seeded["project"])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    calls = scenarios(application, token, seeded["project"], images)
    kinds = [kind for kind in args.only.split(",") if kind]
    for kind in kinds:
        inprocess.measure(kind, args.warmup, calls[kind])
    for kind in kinds:
        print(json.dumps(inprocess.measure(kind, args.requests, calls[kind]).summary()), flush=True)
    for kind in [kind for kind in args.profile.split(",") if kind]:
        print(profile(kind, args.requests, calls[kind], args.top))


if __name__ == "__main__":
    main()
