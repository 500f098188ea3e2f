"""Write a benchmark dataset (DecoyDigits or synthetic CT nodules) in the interchange format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Write a benchmark that needs no download in the interchange format "
        "(labels.csv, images/, prompts/, explanations/): decoy-digits or ct-nodules."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("benchmark", choices=["decoy-digits", "ct-nodules"])
        parser.add_argument("out", type=Path, help="destination folder (created)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--prompt-fraction",
            type=float,
            default=0.25,
            help="fraction of train and val images with a prompt (test: all)",
        )
        parser.add_argument("--prompt-style", choices=["boundary", "scribble"], default="boundary")
        parser.add_argument("--size", type=int, default=None, help="image side in pixels")

    def handle(self, *args: Any, **options: Any) -> None:
        from modeling.ml.benchmarks import BENCHMARKS

        kwargs: dict[str, Any] = {
            "seed": options["seed"],
            "prompt_fraction": options["prompt_fraction"],
            "prompt_style": options["prompt_style"],
        }
        if options["size"] is not None:
            kwargs["size"] = options["size"]
        if not 0.0 <= options["prompt_fraction"] <= 1.0:
            raise CommandError("--prompt-fraction must be between 0 and 1")
        try:
            out = BENCHMARKS[options["benchmark"]](options["out"], **kwargs)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"wrote {options['benchmark']} to {out}")
