"""Response and request models of the indicator and suggestion routes (shapes of IndicatorService's dicts)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas import Name, Strict, Text, Timestamp

NodeStatus = Literal["active", "draft", "retired"]
SuggestionStatus = Literal["pending", "accepted", "merged", "rejected"]


class IndicatorNode(BaseModel):
    id: str
    name: str
    kind: Literal["group", "indicator"]
    definition: str
    keywords: list[str]
    synonyms: list[str]
    survey_question: str | None
    status: NodeStatus
    version: int = Field(description="The tree version in which this node last changed.")
    rule: str = Field("", description="Boolean rule over jieba tokens that maps a clause here (see the README).")
    exclude: str = Field("", description="A clause this rule matches never maps here, by any path.")
    children: list[IndicatorNode] = Field(default_factory=list)


class IndicatorTreeOut(BaseModel):
    name: str
    version: int
    indicators: list[IndicatorNode] = Field(description="Top-level nodes; groups hold children.")
    nodes: int = Field(description="Nodes in all, groups included.")
    indicators_count: int = Field(description="Leaf indicators.")


class ImportResult(BaseModel):
    version: int = Field(description="The new version.")
    name: str
    nodes: int
    indicators: int


class VersionOut(BaseModel):
    version: int
    name: str
    created_at: Timestamp
    author: str
    note: str | None = None


class VersionList(BaseModel):
    versions: list[VersionOut] = Field(description="Oldest first.")


class AuditEntry(BaseModel):
    id: int
    at: Timestamp
    actor: str = Field(description="Who: a CLI user or an API key.")
    action: str = Field(description="What: tree.import, suggestions.generate, suggestion.accept|merge|reject.")
    target: str | None = Field(None, description="The suggestion or indicator acted on.")
    version: int | None = Field(None, description="The tree version it produced or applied to.")
    detail: dict[str, Any] | list[Any] | None = None


class AuditLog(BaseModel):
    entries: list[AuditEntry] = Field(description="Newest first.")


class NodeRef(BaseModel):
    id: str
    name: str
    path: list[str] = Field(description="Names from the root down to this node.")


class FieldChange(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: Any = Field(alias="from")
    to: Any


class NodeChange(BaseModel):
    id: str
    name: str
    changes: dict[str, FieldChange] = Field(description="Per changed field (or parent): from and to.")


class DiffOut(BaseModel):
    from_version: int
    to_version: int
    added: list[NodeRef]
    removed: list[NodeRef]
    changed: list[NodeChange]


class CoveragePoint(BaseModel):
    period: str = Field(description="A week's Monday (YYYY-MM-DD) or a month (YYYY-MM).")
    mentions: int
    net_sentiment: float


class CoverageQuote(BaseModel):
    document_id: str
    text: str
    span: list[int]
    polarity: str
    opinion: str | None = None
    term: str | None = None


class CoverageRow(BaseModel):
    id: str
    name: str
    kind: Literal["group", "indicator"]
    parent: str | None
    path: list[str]
    level: int
    status: NodeStatus
    mentions: int = Field(description="Documents mentioning it (a group: it or anything below it).")
    share: float
    positive: int
    negative: int
    neutral: int
    net_sentiment: float | None = Field(description="(positive - negative) / mentions; null without mentions.")
    via: dict[str, int] = Field(description="How mentions were found (keyword, aspect, fuzzy, ...).")
    trend: list[CoveragePoint]
    growth: float | None = Field(description="Change of its share from the first to the second half of the span.")
    top_quotes: list[CoverageQuote]
    no_evidence: bool


class CoverageOut(BaseModel):
    version: int
    documents: int
    mapped_documents: int
    unmapped_documents: int
    trend_granularity: Literal["week", "month"]
    indicators: list[CoverageRow]
    no_evidence: list[str] = Field(description="Ids of nodes without any mention.")


class EvidenceQuote(BaseModel):
    document_id: str
    text: str
    polarity: str | None = None


class Evidence(BaseModel):
    count: int
    share: float
    negative_rate: float
    growth: float | None = None
    quotes: list[EvidenceQuote]
    sources: dict[str, int]
    document_ids: list[str]


class SuggestionOut(BaseModel):
    id: str
    name: str
    definition: str
    keywords: list[str]
    parent: str | None = Field(None, description="The group it would go under.")
    priority: float
    survey_question: str | None = None
    sources: list[str] = Field(description="What proposed it: topic, aspect_term, ...")
    evidence: Evidence
    status: SuggestionStatus
    reviewer: str | None = None
    reviewed_at: Timestamp | None = None
    reason: str | None = None
    target: str | None = Field(None, description="The indicator it was accepted as or merged into.")
    created_at: Timestamp
    tree_version: int | None = None


class SuggestionList(BaseModel):
    suggestions: list[SuggestionOut] = Field(description="Highest priority first.")


class ReviewIn(Strict):
    action: Literal["accept", "merge", "reject"]
    reason: str | None = Field(None, max_length=2000, description="Why; required to reject.")
    target: str | None = Field(None, min_length=1, max_length=256, description="Indicator id to merge into.")
    parent: str | None = Field(None, min_length=1, max_length=256,
                               description="Accept: the group to add it under (default: the proposed parent).")
    name: Name | None = Field(None, description="Accept: the indicator's name (default: the suggestion's).")

    @model_validator(mode="after")
    def _needs(self) -> ReviewIn:
        if self.action == "reject" and not (self.reason and self.reason.strip()):
            raise ValueError("a rejection needs a reason")
        if self.action == "merge" and not self.target:
            raise ValueError("merging needs a target: the indicator id to merge into")
        return self


class ReviewOut(SuggestionOut):
    version: int = Field(description="The tree version after the review.")
    indicator: IndicatorNode | None = Field(None, description="Accept: the new indicator.")
    keywords_added: list[str] | None = Field(None, description="Merge: keywords added to the target.")


class RulePreviewIn(Strict):
    rule: Text = Field(max_length=2000, description="The rule, e.g. `(退款 OR 退钱) AND 到账 NOT 运费险`; "
                      "rules are at most 500 characters (longer ones get a 422 naming the limit).")
    limit: int = Field(20, ge=0, le=100, description="Sample size.")
    source: list[Literal["survey", "hotline", "review"]] = Field(default_factory=list, max_length=3,
                                                                 description="Only these sources.")
    industry: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=50, description="Only these industries.")


class RuleSample(BaseModel):
    document_id: str
    text: str = Field(description="The stored (PII-masked) text: the whole document, or a long one's clause "
                                  "in context.")
    span_start: int = Field(description="Where the matched words start in `text`.")
    span_end: int = Field(description="Where they end (exclusive).")
    term: str = Field(description="The matched words.")


class RulePreviewOut(BaseModel):
    rule: str = Field(description="The rule in canonical form.")
    matches: int = Field(description="Documents with at least one matching clause.")
    documents_scanned: int
    truncated: bool = Field(description="Scanning stopped at the route's document limit.")
    sample: list[RuleSample]
