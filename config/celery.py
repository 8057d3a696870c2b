"""The Celery application.

With no broker configured (the embedded `make run` default) tasks run eagerly,
in-process, so nothing has to be installed; `REDIS_URL` switches to a real broker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("carbonx")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
