from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "cw_testproject.conversations"
    label = "cw_conversations"
    default_auto_field = "django.db.models.BigAutoField"
