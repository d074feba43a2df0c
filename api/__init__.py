"""The FastAPI service (issue 7): routes over voc.service.Voc, API keys and roles. Not built yet."""
