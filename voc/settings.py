"""One settings object for the whole service.

Values come from, in order of precedence: explicit keyword arguments, ``VOC_*`` environment
variables, a ``.env`` file, a TOML config file (``VOC_CONFIG``, else ``./voc.toml``, else
``$VOC_HOME/config.toml``), and the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from voc.redaction import MASK, redact_url

PII_TYPES: tuple[str, ...] = ("phone", "landline", "id_number", "bank_card", "email")


def default_home() -> Path:
    """The data directory when VOC_HOME is not set.

    The nearest ``voc-data`` directory in the working directory or one above it (a project keeps its data
    beside it, as before), else the user's data directory (``$XDG_DATA_HOME/voc``, by default
    ``~/.local/share/voc``). A fixed ``./voc-data`` made the store depend on where a command ran:
    ``voc search`` one directory away silently opened a new, empty store.
    """
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "voc-data").is_dir():
            return folder / "voc-data"
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "voc"


def _config_file_candidates() -> list[Path]:
    explicit = os.environ.get("VOC_CONFIG")
    if explicit:
        return [Path(explicit)]
    home = Path(os.environ["VOC_HOME"]) if os.environ.get("VOC_HOME") else default_home()
    return [Path("voc.toml"), home / "config.toml"]


class VocSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VOC_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    home: Path = Field(default_factory=default_home, description="Data directory for the embedded store and "
                       "index; default: the nearest ./voc-data upwards, else ~/.local/share/voc.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the document store; default sqlite:///$VOC_HOME/voc.sqlite."
    )
    index: Literal["embedded", "elasticsearch"] = "embedded"
    es_url: str | None = None
    es_api_key: SecretStr | None = None
    es_username: str | None = None
    es_password: SecretStr | None = None
    es_ca_cert: Path | None = None
    es_index_prefix: str = "voc"
    es_shards: int = Field(1, ge=1, description="Primary shards of each new index version.")
    es_replicas: int = Field(0, ge=0, description="Replicas per index version (0 on a single node).")
    es_bulk_bytes: int = Field(5_000_000, ge=10_000, description="Upper bound of one bulk request body.")
    es_timeout: float = Field(30.0, gt=0, description="Seconds per Elasticsearch request.")
    es_max_attempts: int = Field(6, ge=1, description="Attempts on 429/5xx/connection errors (exponential backoff).")
    es_version: str = Field("8.19.21", description="Version `voc es start` fetches; 'latest' asks Maven.")
    es_cache_dir: Path | None = Field(None, description="Where `voc es` keeps the distribution and node data.")
    es_port: int = 9200
    es_node_name: str | None = Field(None, description="A node of its own under the cache's nodes/<name> "
                                                       "(scripts/test.sh: one per checkout).")
    es_heap: str = "512m"
    es_run_as: str = Field("nobody", description="User the local node runs as when `voc es start` runs as root.")
    pg_dir: Path | None = Field(None, description="Where `voc pg` keeps its PostgreSQL clusters.")
    pg_port: int = Field(55432, ge=1, le=65535, description="Port of the local PostgreSQL server (`voc pg`).")
    pg_node_name: str | None = Field(None, description="A server of its own under nodes/<name> "
                                                       "(scripts/test.sh: one per checkout).")
    pg_run_as: str = Field("postgres", description="User the local server runs as when `voc pg start` runs as root.")
    pg_bin_dir: Path | None = Field(None, description="Directory of initdb and pg_ctl (default: Debian's newest).")

    user_dicts: list[Path] = Field(default_factory=list, description="Extra jieba user dictionaries.")
    stopwords_path: Path | None = Field(None, description="Extra stopwords, one per line.")
    synonyms_path: Path | None = Field(None, description="Synonym map: 'canonical<TAB>variant1,variant2'.")
    to_simplified: bool = True

    pii_enabled: bool = True
    pii_types: list[str] = Field(default_factory=lambda: list(PII_TYPES))
    pii_style: Literal["tag", "partial"] = "tag"

    max_text_chars: int = 20_000
    # An XLSX file is a zip: checked on its directory before any XML is parsed (decompression bombs).
    xlsx_max_unpacked_bytes: int = Field(1_000_000_000, ge=1_000_000, description="Largest XLSX workbook, unpacked.")
    xlsx_max_member_bytes: int = Field(100_000_000, ge=1_000_000,
                                       description="Largest part of an XLSX workbook (a sheet), unpacked.")
    xlsx_max_ratio: float = Field(100.0, ge=2, description="Highest compression ratio of an XLSX part over 1 MB.")
    near_duplicate_jaccard: float = Field(
        0.7, ge=0.3, le=1.0, description="Estimated Jaccard similarity (character 3-grams) of a near-duplicate."
    )
    near_duplicate_window_days: int = Field(
        90, ge=0, description="New documents are compared with documents ingested this many days before."
    )
    near_duplicate_min_chars: int = Field(
        20, ge=1, description="Shorter texts are never flagged: short answers repeat without being copy-paste."
    )
    workers: int = Field(0, ge=0, description="Worker processes for ingest; 0 means one per core.")
    batch_size: int = Field(500, ge=1)

    analysis_stages: list[Literal["sentiment", "topics"]] = Field(
        default_factory=lambda: ["sentiment", "topics"],
        description="Optional analysis stages run after tokenising; topics assigns new documents to the "
        "topics of the last `voc topics build` (nothing before the first build).",
    )
    sentiment_model: str | None = Field(
        None, description="Sentiment model: cascade (default: the shipped linear model where it is confident, the "
        "shipped fine-tuned encoder for the rest; without the encoder extra, linear alone, said in the log), linear, "
        "encoder, or a model directory (linear, exported encoder, or a Hugging Face classifier)."
    )
    sentiment_cascade_confidence: float = Field(
        0.8, gt=0, le=1.01, description="Cascade: the linear model answers alone only when its top polar probability "
        "is at least this (1.01: the encoder reads everything)."
    )
    sentiment_cascade_neutral_ceiling: float = Field(
        0.2, ge=0, le=1, description="Cascade: ...and its neutral probability at most this."
    )
    sentiment_cascade_encoder_weight: float = Field(
        0.5, ge=0, le=1, description="Cascade: where the encoder decides, its weight in the answer (the rest: the "
        "linear model's probabilities)."
    )
    aspect_tagger: str = Field(
        "crf", description="What finds aspect and opinion terms: crf (default: the shipped span tagger, two CRFs "
        "trained on the public span sets, no torch), encoder (the shipped fine-tuned encoder tagger; needs the "
        "encoder extra), lexicon (the CX aspect lexicon alone, the behaviour before taggers) or a tagger directory."
    )
    models_cache: Path | None = Field(
        None, description="Where fetched and trained models are kept (the encoder from Maven Central, its Hugging "
        "Face conversion); default $XDG_CACHE_HOME/voc/models, else ~/.cache/voc/models."
    )
    topic_embedding: str = Field(
        "ppmi-sif", description="Topic embedding: ppmi-sif (offline default: word vectors learned from the corpus, "
        "SIF-averaged, plus BM25 LSA), tfidf-svd (plain LSA), bge-small-zh (alias encoder: the fetched pretrained "
        "encoder's CLS vectors through onnxruntime; needs the encoder extra), ppmi-sif+bge (both side by side) or "
        "a transformer encoder's hub name or local path (mean pooling, torch)."
    )
    topic_min_cluster_share: float = Field(
        0.005, gt=0, lt=0.5, description="Smallest topic as a share of the documents clustered (HDBSCAN; at least 10)."
    )
    topic_max_share: float = Field(
        0.2, gt=0, le=1, description="Largest topic as a share of the documents: a bigger one is clustered again "
        "within itself, so feedback about one business (all hotel reviews) still splits into themes. 1: no limit."
    )
    topic_refine_rounds: int = Field(
        3, ge=0, le=20, description="Rounds in which each document's words re-decide its topic (cross-fitted "
        "classifier over TF-IDF, balanced classes); 0 keeps the clustering as it is."
    )
    topic_reassign_threshold: float = Field(
        0.15, ge=0, le=1, description="Cosine to a topic centre at which an outlier or new document joins it."
    )
    topic_sample_threshold: int = Field(
        100_000, ge=1, description="A topic build with more documents in scope than this fits on a stratified "
        "sample of VOC_TOPIC_SAMPLE_SIZE (month x source x industry) and assigns every document with the fitted "
        "classifier, in batches; the exact fit's time and memory grow with the square of the count."
    )
    topic_sample_size: int = Field(
        100_000, ge=50, description="Documents a sampled topic build fits on (`voc topics build --sample N`)."
    )
    topic_sample_min_per_stratum: int = Field(
        20, ge=1, description="Each non-empty stratum (month x source x industry) of a sampled topic build gets "
        "at least this many documents (all of them when it has fewer); the rest is proportional."
    )
    topic_sample_seed: int = Field(0, description="Seed of a sampled topic build's sample (same seed, same sample).")
    topic_ann_min_docs: int = Field(
        50_000, ge=2, description="From this many fitted documents the topic build's k-nearest-neighbour graph is "
        "approximate (faiss IVF, inner product); smaller fits use the exact search."
    )
    topic_assign_batch: int = Field(
        20_000, ge=1, description="Documents read and assigned at a time after a topic fit (bounds the memory)."
    )

    api_rate_limit_per_minute: int = Field(
        1200, ge=0, description="Requests per minute per API key in each server worker; 0 turns the limit off."
    )
    api_rate_limit_burst: int = Field(100, ge=1, description="Requests a key may send at once before limiting.")
    api_auth_failures_per_minute: int = Field(
        30, ge=0, description="Failed API key checks per minute per client address in each server worker; "
        "past the burst the address gets 429 before any key is checked. 0 turns the limit off."
    )
    api_auth_failure_burst: int = Field(10, ge=1, description="Failed key checks a client address may make at once.")
    api_max_body_bytes: int = Field(16_000_000, ge=1_000, description="Largest JSON request body.")
    api_max_upload_bytes: int = Field(200_000_000, ge=1_000, description="Largest file for POST /v1/documents/upload.")
    api_job_threshold_bytes: int = Field(
        1_000_000, ge=0, description="Uploads larger than this are ingested as a background job (202 + job id)."
    )

    ticket_sla_hours: float = Field(
        24.0, gt=0, description="Hours a ticket has before it is overdue, when neither the opener nor its alert "
        "rule gives an SLA."
    )
    ticket_escalation: str | None = Field(
        None, description="Escalation chain of tickets: a YAML/JSON file mapping each owner node to the next level "
        "up (store → region → head office), or that mapping as inline JSON."
    )
    ticket_escalation_sla_hours: float | None = Field(
        None, gt=0, description="Hours an escalated ticket has at its new level; default: the ticket's own SLA."
    )
    ticket_escalate_every_s: float = Field(
        0.0, ge=0, description="`voc serve` escalates overdue tickets this often (seconds); 0: only by "
        "`voc tickets escalate` (cron)."
    )

    alerts_webhooks: list[dict[str, Any]] = Field(
        default_factory=list, description="Alert webhooks: each {name, url (http/https; email: smtp(s)://host:port), "
        "format: json|wecom|dingtalk|feishu|email, secret (json: HMAC key of X-Voc-Signature; dingtalk/feishu: the "
        "robot's sign secret; email: the SMTP password), timeout; email: to, sender, starttls, username}. "
        "Never shown: secrets and URL queries are masked.")
    alerts_notify_webhooks: list[str] = Field(
        default_factory=list, description="Names of alerts_webhooks that receive notices other than alerts (a "
        "ticket escalated to the next level).")
    alerts_interval_seconds: float = Field(
        0.0, ge=0, description="`voc serve` evaluates the scheduled alert rules this often (seconds); 0: only by "
        "`voc alerts run` (cron).")
    alerts_delivery_attempts: int = Field(5, ge=1, le=20, description="Attempts per webhook delivery.")
    alerts_backoff_seconds: float = Field(
        2.0, ge=0, le=600, description="First retry delay of a webhook delivery; doubles per retry, with jitter.")
    alerts_background_delivery: bool = Field(
        False, description="Send webhooks in a background thread after ingest (the server does; the CLI waits).")

    @field_validator("pii_types")
    @classmethod
    def _known_pii_types(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(PII_TYPES))
        if unknown:
            raise ValueError(f"unknown PII types {unknown}; known: {list(PII_TYPES)}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        existing = [path for path in _config_file_candidates() if path.is_file()]
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        if existing:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=existing[0]))
        return (*sources, file_secret_settings)

    def redacted(self) -> dict[str, Any]:
        """The settings as JSON values with every credential hidden: what `voc config` may print."""
        values = self.model_dump(mode="json")
        for name in ("es_api_key", "es_password"):
            if values.get(name):
                values[name] = MASK
        for name in ("database_url", "es_url"):
            if values.get(name):
                values[name] = redact_url(values[name])
        values["resolved_database_url"] = redact_url(self.resolved_database_url)
        values["alerts_webhooks"] = [_masked_webhook(hook) for hook in values.get("alerts_webhooks") or []]
        return values

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'voc.sqlite'}"

    @property
    def embedded_index_path(self) -> Path:
        return self.home / "index.sqlite"

    @property
    def worker_count(self) -> int:
        return self.workers or (os.cpu_count() or 1)


def _masked_webhook(hook: Any) -> Any:
    """A webhook as `voc config` may show it: no secret, no URL query (robot access tokens live there)."""
    if not isinstance(hook, dict):
        return MASK
    shown = {**hook, **({"secret": MASK} if hook.get("secret") else {})}
    if isinstance(hook.get("url"), str):
        shown["url"] = redact_url(hook["url"].split("?", 1)[0]) + (f"?{MASK}" if "?" in hook["url"] else "")
    return shown
