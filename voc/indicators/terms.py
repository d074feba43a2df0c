"""Recurring aspect terms that no indicator covers, grouped into candidate groups.

A term (noun or verb of a clause, two characters or more, not an indicator term) becomes a seed when

* it has volume (``min_count`` documents);
* its clauses are evaluative: at least ``min_opinion`` of them carry a sentiment (clause label), so
  small talk (号码, 再见, 楼主) is left out;
* its clauses map to indicators clearly less often than clauses in general (``max_mapped_ratio``):
  a term that just co-occurs with everything (a brand, 小区) maps at the base rate;
* its contexts are not those of an existing indicator (``max_indicator_similarity``): a term used
  like 发动机 is a missing keyword of 动力, not a new indicator.

Contexts are PPMI vectors over the clause tokens: a small distributional embedding learned from the
corpus itself, so it needs no pretrained model. Seeds with similar contexts (油耗, 省油, 百公里) or
mostly the same documents are grouped into one candidate.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from voc.indicators.candidates import CandidateGroup
from voc.indicators.corpus import DocView
from voc.indicators.mapping import DocumentMapping, Mapper

# Nouns, noun-verbs and verbs: CX aspects are often verbs (配送, 操控, 退款)
TARGET_FLAGS = frozenset({"n", "nz", "ng", "nl", "vn", "an", "v"})
# Words of any corpus that name no experience: never an indicator on their own
GENERIC = frozenset({
    "问题", "情况", "时候", "感觉", "觉得", "东西", "地方", "方面", "时间", "朋友", "大家", "自己",
    "知道", "事情", "原因", "没有", "出现", "有点", "一下", "现在", "以后", "之前", "以前", "开始",
    "希望", "建议", "需要", "可能", "应该", "不能", "不会", "还是", "这次", "这个", "那个", "什么",
    "怎么", "为什么", "认为", "表示", "喜欢", "发现", "看到", "使用", "进行", "一点", "一次", "一个",
    "两个", "还有", "回复", "谢谢", "感谢", "您好", "你好", "反映", "处理", "不错", "好评", "差评",
    "满意", "推荐", "购买", "收到", "客户", "顾客", "用户", "消费者", "体验", "人员", "公司", "问下",
    "请问", "东东", "宝贝", "商品", "产品", "服务", "说明", "联系", "告诉", "看看", "试试", "打电话",
    "电话", "楼主", "评价", "总体", "结果", "选择", "考虑", "估计", "肯定", "基本", "只能", "不用",
})
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
MIN_PAIR = 2  # co-occurrences below this are noise in a PPMI vector


@dataclass(slots=True)
class _TermStats:
    clauses: int = 0
    unmapped: int = 0
    opinion: int = 0
    docs: dict[str, tuple[str, str]] = field(default_factory=dict)  # doc id -> (clause, polarity)


@dataclass(slots=True)
class TermSettings:
    min_opinion: float = 0.3
    max_mapped_ratio: float = 0.8
    max_indicator_similarity: float = 0.3
    group_similarity: float = 0.3
    group_overlap: float = 0.5
    max_keywords: int = 8


class TermCollector:
    def __init__(self, mapper: Mapper, settings: TermSettings | None = None) -> None:
        self.mapper = mapper
        self.settings = settings or TermSettings()
        self.tokenizer = mapper.tokenizer
        self.indicator_tokens = set().union(*mapper.node_tokens.values()) if mapper.node_tokens else set()
        self.stats: dict[str, _TermStats] = defaultdict(_TermStats)
        self.pairs: dict[str, Counter[str]] = defaultdict(Counter)  # term or @node -> context token counts
        self.token_clauses: Counter[str] = Counter()
        self.node_clauses: Counter[str] = Counter()
        self.clauses = 0
        self.unmapped_clauses = 0
        self._target: dict[str, bool] = {}

    def is_target(self, word: str) -> bool:
        cached = self._target.get(word)
        if cached is None:
            cached = (len(word) >= 2 and bool(_CJK_RE.search(word)) and word not in GENERIC
                      and word not in self.indicator_tokens and word not in self.tokenizer.stopwords
                      and self._flag(word) in TARGET_FLAGS)
            self._target[word] = cached
        return cached

    def _flag(self, word: str) -> str:
        tagged = self.tokenizer.tokenize_with_pos(word)
        return tagged[0][1] if len(tagged) == 1 and tagged[0][0] == word else ""

    def add(self, doc: DocView, mapping: DocumentMapping) -> None:
        for mapped in mapping.clauses:
            if not mapped.tokens:
                continue
            tokens = list(dict.fromkeys(mapped.tokens))
            self.clauses += 1
            self.token_clauses.update(tokens)
            unmapped = not mapped.indicator_ids
            self.unmapped_clauses += unmapped
            opinion = mapped.clause.label != "neutral"
            for node_id in mapped.indicator_ids:
                self.node_clauses[node_id] += 1
                self.pairs["@" + node_id].update(t for t in tokens if t not in self.indicator_tokens)
            for term in tokens:
                if not self.is_target(term):
                    continue
                stats = self.stats[term]
                stats.clauses += 1
                stats.unmapped += unmapped
                stats.opinion += opinion
                stats.docs.setdefault(doc.id, (mapped.clause.text, mapped.clause.label))
                self.pairs[term].update(t for t in tokens if t != term)

    def _ppmi(self, key: str, count: int) -> dict[str, float]:
        vector = {}
        for word, pair in self.pairs[key].items():
            if pair >= MIN_PAIR:
                value = math.log(pair * self.clauses / (count * self.token_clauses[word]))
                if value > 0:
                    vector[word] = value
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {w: v / norm for w, v in vector.items()}

    def seeds(self, min_count: int) -> list[str]:
        s = self.settings
        base_mapped = 1 - self.unmapped_clauses / self.clauses if self.clauses else 0.0
        indicator_vectors = [self._ppmi("@" + n, c) for n, c in self.node_clauses.items()]
        out = []
        for term, stats in self.stats.items():
            if len(stats.docs) < min_count or stats.opinion / stats.clauses < s.min_opinion:
                continue
            mapped = 1 - stats.unmapped / stats.clauses
            if base_mapped and mapped / base_mapped > s.max_mapped_ratio:
                continue
            vector = self._ppmi(term, stats.clauses)
            if any(_cos(vector, v) > s.max_indicator_similarity for v in indicator_vectors):
                continue
            out.append(term)
        return sorted(out, key=lambda t: (-len(self.stats[t].docs), t))

    def groups(self, min_count: int) -> list[CandidateGroup]:
        s = self.settings
        seeds = self.seeds(min_count)
        vectors = {t: self._ppmi(t, self.stats[t].clauses) for t in seeds}
        groups: list[list[str]] = []
        for term in seeds:
            docs = self.stats[term].docs
            home = None
            for members in groups:
                head = self.stats[members[0]].docs
                overlap = len(docs.keys() & head.keys()) / min(len(docs), len(head))
                if overlap >= s.group_overlap or _cos(vectors[term], vectors[members[0]]) >= s.group_similarity:
                    home = members
                    break
            if home is None:
                groups.append([term])
            elif len(home) < s.max_keywords:
                home.append(term)
        out = []
        for members in groups:
            evidence: dict[str, tuple[str, str]] = {}
            for term in members:
                for doc_id, quote in self.stats[term].docs.items():
                    evidence.setdefault(doc_id, quote)
            out.append(CandidateGroup(key=f"term:{members[0]}", label=members[0], keywords=members,
                                      document_ids=sorted(evidence), source="aspect_term", evidence=evidence))
        return out

    def describe(self, term: str) -> dict[str, float]:
        """The numbers a seed decision is made on (for tuning and the bench)."""
        stats = self.stats[term]
        base_mapped = 1 - self.unmapped_clauses / self.clauses if self.clauses else 0.0
        vector = self._ppmi(term, stats.clauses)
        near = max((_cos(vector, self._ppmi("@" + n, c)) for n, c in self.node_clauses.items()), default=0.0)
        return {"docs": len(stats.docs), "opinion": round(stats.opinion / stats.clauses, 3),
                "mapped_ratio": round((1 - stats.unmapped / stats.clauses) / base_mapped, 3) if base_mapped else 0.0,
                "indicator_similarity": round(near, 3)}


def _cos(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())
