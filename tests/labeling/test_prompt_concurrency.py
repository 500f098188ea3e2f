"""Concurrent saves of one prompt version: exactly one winner (PostgreSQL row locks)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import close_old_connections, connection

from labeling import services
from labeling.models import AttentionPrompt, PromptVersion
from sightline.errors import ApplicationError
from tests.labeling.conftest import save_sample_prompt

SAVES = 50


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises writers without row locks"
)
def test_fifty_saves_on_one_version_give_exactly_one_winner(project, image, annotator) -> None:
    save_sample_prompt(image, annotator)

    def save(seed: int) -> str:
        try:
            save_sample_prompt(image, annotator, base_version=1, seed=seed)
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
        save_sample_prompt(image, annotator, base_version=base, seed=base)

    with pytest.raises(services.PromptConflict):
        save_sample_prompt(image, annotator, base_version=1, seed=9)

    assert AttentionPrompt.objects.get().current_version == 2
