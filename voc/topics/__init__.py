"""Topic discovery: embeddings → spectral reduction → HDBSCAN → c-TF-IDF labels, with stable ids,
incremental assignment of new documents, trends and emerging-topic detection."""

from voc.topics.model import TopicFit, TopicModel
from voc.topics.store import Topic, TopicStore

__all__ = ["Topic", "TopicFit", "TopicModel", "TopicStore"]
