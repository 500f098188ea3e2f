"""``manage.py reconcile_jobs``: send unsent jobs, resume or fail jobs whose worker stopped.

The same pass Celery beat runs every ``SIGHTLINE_RECONCILE_SECONDS``; useful from cron when no
beat runs, or by hand after an outage.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from modeling.services.reconcile import jobs_reconcile


class Command(BaseCommand):
    help = "Send queued jobs the broker never got; resume or fail jobs whose heartbeat stopped."

    def handle(self, *args: Any, **options: Any) -> None:
        report = jobs_reconcile()
        self.stdout.write(str(report))
