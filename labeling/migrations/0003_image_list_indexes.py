# Indexes of the image list on large projects (tests/load/bench_big_project.py): orderings
# that end with the primary key, one user's current prompts by image, and a trigram index for
# name search on PostgreSQL.

from django.conf import settings
from django.db import DatabaseError, migrations, models, transaction

# Searching image names (``icontains``: UPPER(name) LIKE '%...%') on 100 000 images scans them
# all; a trigram index answers it. PostgreSQL only (pg_trgm is a trusted extension since 13, so
# the database owner may create it); where it cannot be created the search still works, slower.
TRIGRAM_INDEX = (
    "CREATE INDEX IF NOT EXISTS labeling_img_name_trgm_idx ON labeling_image "
    "USING gin (UPPER(name) gin_trgm_ops)"
)


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            schema_editor.execute(TRIGRAM_INDEX)
    except DatabaseError as exc:
        print(f"\n  labeling_img_name_trgm_idx not created ({exc}); name search scans instead")


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS labeling_img_name_trgm_idx")


class Migration(migrations.Migration):

    dependencies = [
        ('labeling', '0002_review_and_studies'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='image',
            name='labeling_img_name_idx',
        ),
        migrations.RemoveIndex(
            model_name='image',
            name='labeling_img_created_idx',
        ),
        migrations.AddIndex(
            model_name='attentionprompt',
            index=models.Index(condition=models.Q(('current_version__gt', 0)), fields=['annotator', 'image'], name='labeling_prompt_annotator_idx'),
        ),
        migrations.AddIndex(
            model_name='image',
            index=models.Index(fields=['project', 'name', 'id'], name='labeling_img_name_id_idx'),
        ),
        migrations.AddIndex(
            model_name='image',
            index=models.Index(fields=['project', 'created_at', 'id'], name='labeling_img_created_id_idx'),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
    ]
