"""Compose one piece of free-text feedback from an industry lexicon.

A record is built from shapes real feedback takes: a one-word answer, a plain complaint or compliment
with an opener and a closer, a contrast (虽然…但是…), a short story over several sentences, a
question or suggestion. Shapes and fragments are drawn from the caller's ``random.Random``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from voc.demo._util import Lexicon, fill, weighted

OPEN_NEG = ["说实话，", "真的无语，", "第一次写差评，", "忍了很久了，", "都第{nth}次了，", "本来不想评价的，",
            "气死我了！", "避雷！", "大家别来了，", "唉，", "吐槽一下，", "我就想问问，", "有一说一，", "服了，"]
CLOSE_NEG = ["差评！", "再也不会来了", "太失望了", "希望改进吧", "投诉无门", "无语", "服了", "这就是你们的服务？",
             "还有没有人管了？", "钱是大风刮来的吗？", "差评差评差评", "真的会谢", "下次不会再选了", "一星都嫌多",
             "离谱", "无语子", "破防了", "心累", "谁受得了啊？", "就这？", "建议整改"]
EMOJI_NEG = ["😡", "🙄", "😤", "💢", "👎", "😓", "🤬", "😡😡😡", "🙄🙄"]
OPEN_POS = ["总体来说，", "不错，", "超级推荐！", "第二次来了，", "良心商家，", "惊喜！", "必须好评，", "老顾客了，",
            "说真的，", "给个好评，"]
CLOSE_POS = ["会回购的", "推荐！", "yyds！", "绝绝子", "点赞！", "好评", "下次还来", "五星好评！", "继续保持",
             "爱了爱了", "nice", "整体OK", "赞一个", "值得", "大家放心冲"]
EMOJI_POS = ["👍", "❤️", "😊", "🥰", "👏", "💯", "👍👍👍", "😋"]
FOLLOW_NEG = ["找客服也没用", "打电话没人接", "问了半天也没个说法", "真的是心累", "反映了好几次都没改",
              "跟他们说了，一句道歉都没有", "拍了照片发过去，就回了个表情", "说会给答复，到现在也没消息"]
WHEN = ["昨天", "上周", "今天中午", "前天晚上", "这个月", "上个礼拜", "周末"]
CONTRAST_NEG = ["虽然{p}，但是{n}", "{p}，但是{n}", "别的都还好，就是{n}", "{p}，可惜{n}", "{p}没错，但{n}"]
CONTRAST_POS = ["虽然{n}，但是{p}", "除了{n}，其他都挺好", "{n}，不过{p}", "{p}，就是{n}，小问题"]
NEUTRAL_PREFIX = ["整体还行，", "一般吧，", "没什么大问题，", "就一点建议：", "还可以，", "提个建议，", "想问一下，",
                  "其他都还好，", "总体OK，", "总体满意，", "小建议：", "顺便问下，"]
NEUTRAL_SUFFIX = ["谢谢", "期待改进", "辛苦了", "麻烦考虑一下", "谢谢啦", "希望采纳"]
MIXED = ["还行吧，{p}，就是{n}", "一般般，{p}，不过{n}", "中规中矩，{n}，但{p}"]
END_PUNCT = "。！？!?~…"


@dataclass(frozen=True)
class Phrases:
    """The industry-independent glue around clauses; one set per script (简体 / 繁體)."""

    open_neg: Sequence[str]
    close_neg: Sequence[str]
    open_pos: Sequence[str]
    close_pos: Sequence[str]
    follow_neg: Sequence[str]
    when: Sequence[str]
    contrast_neg: Sequence[str]
    contrast_pos: Sequence[str]
    neutral_prefix: Sequence[str]
    neutral_suffix: Sequence[str]
    mixed: Sequence[str]
    joiners: Sequence[str]


SIMPLIFIED = Phrases(
    open_neg=OPEN_NEG, close_neg=CLOSE_NEG, open_pos=OPEN_POS, close_pos=CLOSE_POS, follow_neg=FOLLOW_NEG, when=WHEN,
    contrast_neg=CONTRAST_NEG, contrast_pos=CONTRAST_POS, neutral_prefix=NEUTRAL_PREFIX, neutral_suffix=NEUTRAL_SUFFIX,
    mixed=MIXED, joiners=["，", "。", "，而且", "！", "；", "，另外"],
)


def _end(rng: random.Random, text: str) -> str:
    if not text or text[-1] in END_PUNCT or text[-1] in "）)":
        return text
    return text + rng.choice(["。", "。", "！", "", "~", "。"])


def _cat(left: str, sep: str, right: str) -> str:
    """Join two pieces, dropping ``sep`` where the left one already ends a sentence (no "？。")."""
    if not left:
        return right
    return left + right if left[-1] in END_PUNCT else left + sep + right


def _join(rng: random.Random, parts: list[str], joiners: Sequence[str]) -> str:
    out = parts[0]
    for part in parts[1:]:
        sep = rng.choice(joiners)
        out = _cat(out.rstrip("。"), sep, part)
    return out


class Composer:
    """Writes feedback texts for one lexicon; ``emoji=False`` for files in GBK or Big5."""

    def __init__(self, rng: random.Random, lex: Lexicon, *, emoji: bool = True,
                 phrases: Phrases = SIMPLIFIED) -> None:
        self.rng = rng
        self.lex = lex
        self.emoji = emoji
        if lex.glue_exclude:
            drop = tuple(lex.glue_exclude)
            phrases = replace(phrases, **{
                name: [p for p in getattr(phrases, name) if p not in drop]
                for name in ("open_neg", "close_neg", "open_pos", "close_pos")
            })
        self.ph = phrases

    def _weights(self, override: Mapping[str, float] | None, allowed: tuple[str, ...] | None) -> dict[str, float]:
        weights = {a: self.lex.weights.get(a, 1.0) for a in self.lex.aspects}
        if override:
            weights.update(override)
        if allowed is not None:
            weights = {a: w for a, w in weights.items() if a in allowed}
        return weights

    def clause(self, kind: str, weights: Mapping[str, float], cache: dict[str, str],
               exclude: str | None = None) -> tuple[str, str]:
        """One fragment of ``kind`` (neg/pos/ask) and the aspect it is about."""
        options = {a: w for a, w in weights.items() if getattr(self.lex.aspects[a], kind) and a != exclude}
        if not options:  # a narrow aspect filter can leave a kind empty; widen rather than fail
            options = {a: 1.0 for a, asp in self.lex.aspects.items() if getattr(asp, kind)}
        aspect = weighted(self.rng, options)
        return aspect, fill(self.rng.choice(getattr(self.lex.aspects[aspect], kind)), self.rng, self.lex.slots, cache)

    def compose(
        self,
        sentiment: str,
        *,
        cache: dict[str, str] | None = None,
        aspect_weights: Mapping[str, float] | None = None,
        allowed: tuple[str, ...] | None = None,
        survey: bool = False,
    ) -> tuple[str, str | None]:
        """Return (text, main aspect or None for aspect-free answers like 无)."""
        rng = self.rng
        cache = {} if cache is None else cache
        weights = self._weights(aspect_weights, allowed)
        r = rng.random()
        if sentiment == "negative":
            text, aspect = self._negative(r, weights, cache, survey)
        elif sentiment == "positive":
            text, aspect = self._positive(r, weights, cache)
        else:
            text, aspect = self._neutral(r, weights, cache)
        return fill(text, rng, self.lex.slots, cache), aspect

    def _emoji(self, text: str, pool: list[str], p: float) -> str:
        if self.emoji and self.rng.random() < p:
            return text.rstrip("。") + self.rng.choice(pool)
        return text

    def _negative(self, r: float, w: Mapping[str, float], cache: dict[str, str],
                  survey: bool) -> tuple[str, str | None]:
        rng = self.rng
        if r < 0.06 and self.lex.short_neg:
            return self._emoji(rng.choice(self.lex.short_neg), EMOJI_NEG, 0.2), None
        aspect, n1 = self.clause("neg", w, cache)
        if r < 0.22:
            _, p = self.clause("pos", w, cache, exclude=aspect)
            text = _end(rng, rng.choice(self.ph.contrast_neg).format(p=p, n=n1))
        elif r < 0.36:
            _, n2 = self.clause("neg", w, cache, exclude=aspect)
            when = rng.choice(self.ph.when) + "，" if rng.random() < 0.5 else ""
            ph = self.ph
            text = _cat(_cat(rng.choice(ph.open_neg) + when + n1, "。", n2), "，", rng.choice(ph.follow_neg))
            text = _end(rng, _cat(text, "。", rng.choice(ph.close_neg)))
        else:
            parts = [n1]
            if rng.random() < 0.35:
                parts.append(self.clause("neg", w, cache, exclude=aspect)[1])
            text = _join(rng, parts, self.ph.joiners)
            if rng.random() < 0.45:
                text = rng.choice(self.ph.open_neg) + text
            if rng.random() < 0.55:
                text = _cat(text.rstrip("。"), rng.choice(["，", "。", "！"]), rng.choice(self.ph.close_neg))
            text = _end(rng, text)
        if survey and rng.random() < 0.35:
            ask = self.clause("ask", w, cache)[1]
            base = text.rstrip("。~…")
            text = _end(rng, base + ("" if base[-1] in "！？!?" else "。") + ask)
        return self._emoji(text, EMOJI_NEG, 0.12), aspect

    def _positive(self, r: float, w: Mapping[str, float], cache: dict[str, str]) -> tuple[str, str | None]:
        rng = self.rng
        if r < 0.12 and self.lex.short_pos:
            return self._emoji(rng.choice(self.lex.short_pos), EMOJI_POS, 0.2), None
        aspect, p1 = self.clause("pos", w, cache)
        if r < 0.25:
            _, n = self.clause("neg", w, cache, exclude=aspect)
            text = _end(rng, rng.choice(self.ph.contrast_pos).format(p=p1, n=n))
        else:
            parts = [p1]
            if rng.random() < 0.4:
                parts.append(self.clause("pos", w, cache, exclude=aspect)[1])
            text = _join(rng, parts, self.ph.joiners)
            if rng.random() < 0.35:
                text = rng.choice(self.ph.open_pos) + text
            if rng.random() < 0.5:
                text = _cat(text.rstrip("。"), rng.choice(["，", "。", "！"]), rng.choice(self.ph.close_pos))
            text = _end(rng, text)
        return self._emoji(text, EMOJI_POS, 0.18), aspect

    def _neutral(self, r: float, w: Mapping[str, float], cache: dict[str, str]) -> tuple[str, str | None]:
        rng = self.rng
        if r < 0.3 and self.lex.short_neutral:
            return rng.choice(self.lex.short_neutral), None
        if r < 0.8:
            aspect, ask = self.clause("ask", w, cache)
            if rng.random() < 0.45:
                ask = rng.choice(self.ph.neutral_prefix) + ask
            if rng.random() < 0.3:
                ask = _cat(ask, "，", rng.choice(self.ph.neutral_suffix))
            return _end(rng, ask), aspect
        aspect, p = self.clause("pos", w, cache)
        _, n = self.clause("neg", w, cache, exclude=aspect)
        return _end(rng, rng.choice(self.ph.mixed).format(
            p=p, n=n)), aspect
