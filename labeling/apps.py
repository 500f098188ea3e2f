from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "labeling"
    verbose_name = "Labeling"

    def ready(self) -> None:
        # Cache invalidation only (labeling.authentication): no workflow runs in a signal.
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save
        from rest_framework.authtoken.models import Token

        from labeling import authentication

        post_save.connect(authentication.on_token_changed, sender=Token, dispatch_uid="tok-s")
        post_delete.connect(authentication.on_token_changed, sender=Token, dispatch_uid="tok-d")
        post_save.connect(authentication.on_user_saved, sender=get_user_model(), dispatch_uid="usr")
