"""List, filter and count requests on a project of 100 000 images: p50/p99 per request kind.

Seeds the project once (``seed_images.py``; reused on later runs when a project of that name
and size exists), then calls the WSGI application in-process with production settings (see
``inprocess.py``) as the project's admin, a plain member (``--superuser`` for a superuser), and
prints two JSON lines per request kind: ``cold``, with the project's cached pages and counts
retired before every request (``labeling.listcache``: what the first request after a change
costs), and ``warm`` (the same request again, as members browsing an unchanged project make
it). Each gives wall-time p50/p99 (the figure the target is about, on an idle machine), CPU
p50/p99 of this process, the database backend's CPU per request and the number of queries.
``--explain`` prints PostgreSQL's plan of each query of one (cold) request per kind.

    python tests/load/bench_big_project.py --images 100000 --requests 200
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.load import inprocess, seed_images


def kinds(project: int, images: int, annotator: str) -> dict[str, str]:
    """Request kind -> path: pages, every filter of the image list, and the counts."""
    base = f"/api/v1/projects/{project}/images/?page_size=50"
    last = (images + 49) // 50
    return {
        "list_page_1": base,
        "list_page_middle": f"{base}&page={last // 2}",
        "list_page_last": f"{base}&page={last}",
        "list_newest_first": f"{base}&ordering=-created_at",
        "filter_split_val": f"{base}&split=val",
        "filter_label_normal": f"{base}&label=normal",
        "filter_unlabelled": f"{base}&label=none",
        "filter_has_prompt": f"{base}&has_prompt=true",
        "filter_no_prompt": f"{base}&has_prompt=false",
        "filter_annotator": f"{base}&annotator={annotator}",
        "filter_search": f"{base}&search=img-00123",
        "filter_combined": f"{base}&split=train&label=abnormal&has_prompt=true",
        "count_only": f"/api/v1/projects/{project}/images/?page_size=1",
        "count_filtered": f"/api/v1/projects/{project}/images/?page_size=1&has_prompt=false",
        "project_counts": f"/api/v1/projects/{project}/",
        "project_list": "/api/v1/projects/",
    }


def explain(app: object, path: str, token: str) -> str:
    """PostgreSQL's plan (EXPLAIN ANALYZE) of every query one request runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        inprocess.wsgi_call(app, "GET", path, token=token)
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plans.append(query["sql"] + "\n" + "\n".join(row[0] for row in cursor.fetchall()))
    return "\n\n".join(plans)


def main() -> None:
    parser = inprocess.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--only", default="", help="comma-separated request kinds")
    parser.add_argument("--superuser", action="store_true")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()

    app = inprocess.start(args)
    from labeling.models import Image, Project

    username = "perf-root" if args.superuser else "perf-admin"
    user, token = seed_images.seed_user(username, superuser=args.superuser)
    name = f"big-{args.images}"
    project = Project.objects.filter(name=name).first()
    if project is None or Image.objects.filter(project=project).count() != args.images:
        if project is not None:
            project.delete()
        seed_images.seed_project(name=name, images=args.images, user=seed_images.seed_user(
            "perf-admin")[0])  # fmt: skip
        project = Project.objects.get(name=name)
    if args.superuser is False:
        from labeling.models import Membership, Role

        Membership.objects.get_or_create(project=project, user=user, defaults={"role": Role.ADMIN})
    paths = kinds(project.pk, args.images, "perf-admin")
    from labeling import listcache

    def retire(project_id: int = project.pk) -> None:
        listcache.project_changed(project_id=project_id)

    chosen = [k for k in args.only.split(",") if k] or list(paths)
    for kind in chosen:
        path = paths[kind]

        def one(i: int, path: str = path) -> inprocess.Reply:
            return inprocess.wsgi_call(app, "GET", path, token=token)

        inprocess.measure(kind, args.warmup, one)
        for state in ("cold", "warm"):
            before = retire if state == "cold" else None
            sample = inprocess.measure(kind, args.requests, one, before=before)
            summary = {"cache": state, **sample.summary()}
            summary["cpu_p50_ms"] = round(inprocess.percentile(sample.cpu_ms, 0.5), 3)
            summary["count"] = json.loads(one(0).body).get("count")
            print(json.dumps(summary), flush=True)
        if args.explain:
            retire()
            print(explain(app, path, token), flush=True)


if __name__ == "__main__":
    main()
