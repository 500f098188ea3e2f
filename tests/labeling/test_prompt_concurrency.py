"""Concurrent saves of one prompt version: exactly one winner (PostgreSQL row locks)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import close_old_connections, connection

from labeling import services
from labeling.models import AttentionPrompt, PromptVersion
from sightline.errors import ApplicationError
from tests.labeling.conftest import sample_prompt

SAVES = 50


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises writers without row locks"
)
def test_fifty_saves_on_one_version_give_exactly_one_winner(project, image, annotator) -> None:
    mask = sample_prompt(12, 16)
    services.prompt_save(
        image=image, annotator=annotator, target_class="abnormal", mask=mask, base_version=0
    )

    def save(seed: int) -> str:
        try:
            services.prompt_save(
                image=image,
                annotator=annotator,
                target_class="abnormal",
                mask=sample_prompt(12, 16, seed),
                base_version=1,
            )
            return "won"
        except ApplicationError as exc:
            return exc.code
        finally:
            close_old_connections()
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(save, range(SAVES)))

    assert outcomes.count("won") == 1
    assert outcomes.count("conflict") == SAVES - 1
    prompt = AttentionPrompt.objects.get()
    assert prompt.current_version == 2
    assert PromptVersion.objects.filter(status="conflict").count() == SAVES - 1


@pytest.mark.django_db
def test_a_save_based_on_an_old_version_is_refused_on_any_database(image, annotator) -> None:
    for base in (0, 1):
        services.prompt_save(
            image=image,
            annotator=annotator,
            target_class="abnormal",
            mask=sample_prompt(12, 16, base),
            base_version=base,
        )

    with pytest.raises(services.PromptConflict):
        services.prompt_save(
            image=image,
            annotator=annotator,
            target_class="abnormal",
            mask=sample_prompt(12, 16, 9),
            base_version=1,
        )

    assert AttentionPrompt.objects.get().current_version == 2
