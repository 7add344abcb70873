from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("chat/", views.chat_page, name="chat"),
    path("chat/<str:conversation_id>/", views.chat_page, name="conversation"),
    path("long-task/", views.long_task_page, name="long_task"),
    path("long-task/start/", views.long_task_start, name="long_task_start"),
    path("tools/", views.tools_page, name="tools"),
    path("ai-sdk/", views.aisdk_page, name="aisdk"),
    path("ai-sdk/<str:chat_id>/", views.aisdk_page, name="aisdk_chat"),
    path("usage/", views.usage_page, name="usage"),
]
