from common.celery_app import create_celery_app

app = create_celery_app("auth")
