"""The hot reads' fixed statements are prepared on PostgreSQL and read the same rows
(sightline.db)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from labeling import selectors, services
from labeling.models import Image
from tests.labeling.conftest import save_sample_prompt

pytestmark = pytest.mark.django_db

ROLE_SQL = "%labeling_membership m ON m.project_id = p.id%"


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("server-side prepared statements are a PostgreSQL feature")


@pytest.fixture
def image(project, owner, make_png) -> Image:
    (created,) = services.image_create(
        project=project, name="first.png", data=make_png(16, 12, seed=1), created_by=owner
    )
    return created


def _prepared(pattern: str) -> list[tuple[str, int]]:
    """Prepared statements of this session whose text matches, with their executions."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, generic_plans + custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE %s",
            [pattern],
        )
        return cursor.fetchall()


def test_a_hot_read_is_prepared_once_and_then_executed_by_name(owner, project) -> None:
    for _ in range(3):
        role = selectors.project_get_with_role(user=owner, project_id=project.pk)
        assert (role.pk, role.my_role) == (project.pk, "admin")

    ((_, executions),) = _prepared(ROLE_SQL)
    assert executions == 3
    assert connection.connection.prepare_threshold is None  # Django's statements: never


def test_a_prepared_read_is_counted_as_a_query(owner, project, django_assert_num_queries) -> None:
    selectors.project_get_with_role(user=owner, project_id=project.pk)

    with django_assert_num_queries(1):
        selectors.project_get_with_role(user=owner, project_id=project.pk)


def test_orm_statements_stay_unprepared(owner, project) -> None:
    selectors.project_get_with_role(user=owner, project_id=project.pk)
    list(type(project).objects.filter(pk=project.pk))

    assert _prepared("%labeling_project%") == _prepared(ROLE_SQL)


@pytest.mark.parametrize("persona", ["owner", "annotator"])
def test_prepared_and_client_side_reads_give_the_same_row(
    request, settings, image, persona
) -> None:
    user = request.getfixturevalue(persona)
    save_sample_prompt(image, user)

    def read() -> selectors.PromptRow:
        return selectors.prompt_get_mine_on_image(user=user, image_id=image.pk, target_class=None)

    prepared = read()
    settings.DATABASE_PREPARED_STATEMENTS = False
    client_side = read()

    assert prepared == client_side
    assert prepared.updated_at.tzinfo is not None
    assert prepared.counts == client_side.counts and isinstance(prepared.counts, dict)
    assert len(_prepared("%labeling_attentionprompt%")) == 1  # the prepared read only


def test_nothing_is_prepared_when_turned_off(settings, owner, project) -> None:
    settings.DATABASE_PREPARED_STATEMENTS = False

    role = selectors.project_get_with_role(user=owner, project_id=project.pk)

    assert role.my_role == "admin"
    assert _prepared(ROLE_SQL) == []


@pytest.mark.django_db(transaction=True)
def test_a_read_after_a_rolled_back_transaction_prepares_again(owner, project) -> None:
    selectors.project_get_with_role(user=owner, project_id=project.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        selectors.project_get_with_role(user=owner, project_id=project.pk)
        raise RuntimeError("roll back")  # psycopg deallocates the session's statements

    role = selectors.project_get_with_role(user=owner, project_id=project.pk)

    assert role.my_role == "admin"
    ((_, executions),) = _prepared(ROLE_SQL)
    assert executions == 1
