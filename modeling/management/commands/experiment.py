"""Compare explanation-guided training methods on an interchange-format dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

DEFAULT_METHODS = "baseline,gradia,haics,res-g,res-l,energy,rrr,vapl"


class Command(BaseCommand):
    help = (
        "Train every method on the train split (prompts as present), select on val, test on "
        "test; write mean and std over seeds as JSON and print a table. Needs no database."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", type=Path, required=True, help="interchange-format folder")
        parser.add_argument("--methods", default=DEFAULT_METHODS, help="comma-separated")
        parser.add_argument("--seeds", type=int, default=3, help="seeds 0 .. N-1")
        parser.add_argument("--out", type=Path, default=Path("results.json"))
        parser.add_argument("--preset", choices=["paper", "quick"], default="paper")
        parser.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="SECTION.KEY=VALUE",
            help="override one setting (repeatable), e.g. train.epochs=10",
        )
        parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="runs at once in separate processes (CPU only; 2 on a 2-core machine)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from modeling.ml.experiment import apply_overrides, format_table, preset, run_experiment

        methods = [m.strip() for m in options["methods"].split(",") if m.strip()]
        if options["seeds"] < 1:
            raise CommandError("--seeds must be at least 1")
        try:
            config = apply_overrides(preset(options["preset"]), options["overrides"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        out: Path = options["out"]
        out.parent.mkdir(parents=True, exist_ok=True)
        run_info = {"preset": options["preset"], "overrides": options["overrides"]}

        def save(result: dict[str, Any]) -> None:
            # Rewritten after every method and seed: a long run keeps its finished rows.
            result["config"]["experiment"].update(run_info)
            out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")

        try:
            result = run_experiment(
                options["data"],
                methods=methods,
                seeds=options["seeds"],
                config=config,
                device=options["device"],
                log=lambda line: self.stderr.write(line),
                on_summary=save,
                workers=options["workers"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        save(result)
        self.stdout.write(format_table(result))
        self.stdout.write(f"results written to {out}")
