"""Hand-written CX sentiment lexicon: opinion words, negators, slang, emoji and aspect terms.

Written for voc (not copied from any corpus). The lexicon does not replace the trained model;
it finds opinion spans for aspects and decides the hard cases a bag of n-grams gets wrong
(double negation, rhetorical questions, sarcasm, emoji-only and slang-only texts).
"""

from __future__ import annotations

import re


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


POSITIVE_WORDS = _words(
    "好 不错 满意 喜欢 好吃 美味 新鲜 实惠 划算 便宜 值 值得 超值 快 及时 准时 "
    "迅速 热情 耐心 周到 贴心 礼貌 专业 靠谱 干净 精美 整洁 舒服 舒适 方便 安静 "
    "漂亮 好看 精致 结实 耐用 正品 给力 棒 赞 完美 推荐 惊喜 感谢 谢谢 好评 优秀 "
    "清晰 流畅 好用 香 嫩 入味 地道 大份 足 永远的神 绝绝子 牛 牛逼 真香 回购 种草 "
    "良心 稳 完好 严实 态度好 高效 细心 开心 放心 省心 "
)
NEGATIVE_WORDS = _words(
    "差 坏 烂 难吃 难喝 难看 难用 贵 慢 晚 迟 凉 冷 咸 淡 油腻 腥 臭 馊 硬 少 "
    "脏 乱 吵 旧 破 漏 洒 碎 坏了 垃圾 失望 后悔 生气 恶心 敷衍 推诿 态度差 "
    "不耐烦 爱答不理 投诉 退款 退货 欺骗 骗 假货 虚假 坑 差评 无语 拉胯 踩雷 避雷 "
    "智商税 糟糕 麻烦 郁闷 崩溃 卡顿 卡 发热 异味 霉 蟑螂 缺斤少两 送错 漏送 少送 "
    "超时 等了 离谱 过分 坑爹 恶劣 粗鲁 不值 "
)
# Negators (see _NEGATOR_RE) flip the opinion that follows within a few characters; "不是不好" flips twice.
NEGATION_WINDOW = 4

# Abbreviations expanded before analysis, so that aspects and the lexicon see the full word.
ABBREVIATIONS: dict[str, str] = {
    "yyds": "永远的神",
    "kf": "客服",
    "xswl": "笑死我了",
    "nb": "牛逼",
    "nsdd": "你说得对",
    "hp": "好评",
    "cp": "差评",
    "zqsg": "真情实感",
    "dbq": "对不起",
    "awsl": "太可爱了",
}
_ABBREV_RE = re.compile(r"(?<![a-z])(" + "|".join(sorted(ABBREVIATIONS, key=len, reverse=True)) + r")(?![a-z])")

EMOJI_POLARITY: dict[str, int] = {
    **dict.fromkeys("👍😊😀😁😃😄😆😍🥰😘❤💕💯👏🎉🤩😋🌹✨😻💪", 1),
    **dict.fromkeys("👎😡😠🤬😤😞😔😢😭😩😫🤮🤢💩😒🙄😓😰💔😣😖", -1),
}
BRACKET_EMOTICONS: dict[str, int] = {
    "[赞]": 1,
    "[good]": 1,
    "[微笑]": 0,
    "[哈哈]": 1,
    "[爱心]": 1,
    "[心]": 1,
    "[鼓掌]": 1,
    "[耶]": 1,
    "[怒]": -1,
    "[抓狂]": -1,
    "[衰]": -1,
    "[泪]": -1,
    "[流泪]": -1,
    "[伤心]": -1,
    "[吐]": -1,
    "[鄙视]": -1,
    "[生病]": -1,
    "[哼]": -1,
    "[弱]": -1,
    "[白眼]": -1,
}

# Sarcasm: these phrases turn an apparently positive text negative. 呵呵 alone is not one (in the
# review sets it occurs more often in positive reviews); it counts only right after praise.
SARCASM_RE = re.compile(
    r"醉了|服了|真行啊?|可真[是会]|厉害了我的|谢谢你们?全家|真是谢谢|谢了您|好一个(?!人|月|星期)|"
    r"(?:真|太|好|可)(?:是|的)?(?:好|棒|快|准时|贴心|专业|优秀|新鲜)[了啊呀哦的]*[，,。!！~～\s]*呵呵|"
    r"[“\"‘「]\s*(?:好|棒|快|优秀|不错|贴心|准时|新鲜|专业)[^”\"’」]{0,3}[”\"’」]"
)
# Rhetorical questions that complain ("这也叫五星级?", "能不能快点", "凭什么不退").
RHETORICAL_NEG_RE = re.compile(
    r"这也[叫算配]|这[就便]是.{0,8}[吗么]|还好意思|凭什么|怎么还|为什么还|怎么能这么|能不能.{0,8}[点些]|"
    r"就不能.{0,10}[吗么][?？]|有你们这样|有这样.{0,10}[吗么]|还有比这更"
)
# "难道…吗" asks for agreement: with a negation inside it affirms (难道不好吃吗 = 好吃).
RHETORICAL_NANDAO_RE = re.compile(r"难道(.{1,20}?)[吗么嘛]")

# Requests and questions without an opinion are neutral ("请问发票怎么开").
_ACTIONS = "开办用退换查买付交寄填改绑领取装修约订联系操作设置申请处理报销投保"
REQUEST_RE = re.compile(
    r"请问|想问|问一下|问下|求问|咨询|能否|可否|麻烦.{0,6}(?:帮|给|查)|请.{0,4}(?:帮|给|开|查|寄|发|安排)|"
    rf"怎么[{_ACTIONS}]|如何[{_ACTIONS}]|在哪[里儿]?[{_ACTIONS}]|什么时候(?:发货|到|送|能|可以)|"
    r"可以.{0,10}[吗么][?？]?$|有没有.{0,10}[吗么?？]|需要.{0,10}(?:吗|么|\?|？)"
)

REQUEST_OPENING_RE = re.compile(r"(?:你好|您好|亲)?[，,！!\s]*(?:请问|想问|问一下|问下|求问|咨询|麻烦问)")

# One-word answers common in open survey questions: fixed polarity, no model needed.
SHORT_ANSWERS: dict[str, str] = {
    **dict.fromkeys(
        _words(
            "无 没有 暂无 没 无意见 没意见 没有意见 无建议 没有建议 暂时没有 不知道 不清楚 "
            "说不清 一般 还行 还可以 凑合 马马虎虎 中规中矩 一般般 还好 正常 嗯 哦 好的 收到 "
            "ok 无所谓 都行 "
        ),
        "neutral",
    ),
    **dict.fromkeys(
        _words(
            "好 很好 挺好 不错 很不错 满意 很满意 非常满意 好评 点赞 赞 棒 很棒 推荐 喜欢 "
            "完美 超赞 给力 永远的神 绝绝子 "
        ),
        "positive",
    ),
    **dict.fromkeys(
        _words(
            "差 很差 太差 差评 不满意 很不满意 垃圾 失望 很失望 难吃 太慢 无语 后悔 坑 避雷 "
            "拉胯 不好 不行 一般差 非常差 "
        ),
        "negative",
    ),
}

# CX aspects (aligned with the indicator vocabulary) and the surface terms that evoke them.
ASPECT_TERMS: dict[str, tuple[str, ...]] = {
    "物流配送": _words(
        "物流 快递 配送 送货 送餐 送达 骑手 外卖小哥 小哥 快递员 送货员 发货 到货 派送 送来 送到 配送员 运费 "
    ),
    "服务态度": _words("服务 态度 客服 服务员 前台 店员 商家 老板 工作人员 接线员 导购 管家 "),
    "价格": _words("价格 价钱 性价比 价位 收费 费用 优惠 划算 便宜 贵 实惠 "),
    "产品质量": _words("质量 做工 品质 材质 正品 假货 用料 质感 效果 做工 "),
    "口味": _words("味道 口味 口感 好吃 难吃 咸 淡 辣 新鲜 菜品 饭菜 "),
    "分量": _words("分量 份量 量 量少 量大 "),
    "包装": _words("包装 盒子 包裹 餐盒 打包 封口 外包装 纸箱 "),
    "售后": _words("售后 退货 退款 换货 保修 维修 退换 理赔 补发 "),
    "环境": _words("环境 卫生 房间 隔音 装修 设施 床 卫生间 位置 早餐 大堂 "),
    "处理效率": _words("处理速度 响应 效率 等待时间 排队 回复 回电 "),
}
TERM_TO_ASPECT = {term: aspect for aspect, terms in ASPECT_TERMS.items() for term in terms}
ASPECT_TERM_RE = re.compile("|".join(sorted(map(re.escape, TERM_TO_ASPECT), key=len, reverse=True)))
# Where an aspect sits in the indicator tree (level-1 parent), for mapping results onto it.
ASPECT_PARENT: dict[str, str] = {
    "物流配送": "物流配送",
    "服务态度": "服务",
    "价格": "价格",
    "产品质量": "产品质量",
    "口味": "产品质量",
    "分量": "产品质量",
    "包装": "物流配送",
    "售后": "服务",
    "环境": "环境设施",
    "处理效率": "服务",
}


def expand_abbreviations(text: str) -> str:
    lowered = text.lower()
    if not any(ch.isascii() and ch.isalpha() for ch in lowered):
        return text
    return _ABBREV_RE.sub(lambda m: ABBREVIATIONS[m.group(1)], lowered)


_OPINION_WORDS = {w: 1 for w in POSITIVE_WORDS} | {w: -1 for w in NEGATIVE_WORDS}
OPINION_RE = re.compile("|".join(sorted(map(re.escape, _OPINION_WORDS), key=len, reverse=True)))
# lookaheads keep 非常, 不过, 无论, 没想到, 别人 … from counting as negations
_NEGATOR_RE = re.compile(
    r"不是|没有|并不|并非|从不|毫不|不太|不怎么|不够|不(?![过仅但管论])|没(?!想到)|别(?![人的])"
    r"|无(?![论比敌])|非(?!常)|未(?!来)"
)


def opinion_polarity(word: str) -> int:
    return _OPINION_WORDS.get(word, 0)


def negation_count(text: str, start: int) -> int:
    """How many negators sit in the few characters before ``start`` (不是不好 → 2)."""
    window = text[max(0, start - NEGATION_WINDOW) : start]
    return len(_NEGATOR_RE.findall(window))


# Words that contain an opinion character without being an opinion (快递 is not 快).
NOT_OPINION_RE = re.compile(
    r"快递|快餐|快件|你好|您好|好像|好友|好多|好几|差不多|差价|贵宾|凉菜|凉皮|凉面|冷饮|冷藏|冷冻|冷气|"
    r"晚上|晚饭|晚餐|今晚|卡片|银行卡|信用卡|会员卡|购物卡|少许|硬件|硬盘|硬座|香港|香菜|值班|赞助"
)


def lexicon_hits(text: str) -> list[tuple[int, int, int]]:
    """(start, end, polarity after negation) for each opinion word in ``text``."""
    hits = []
    # Both match streams run left to right and masked spans never overlap, so one pointer into the
    # masks keeps this linear: checking every hit against every mask was quadratic ("快递" x 10,000: 5 s).
    masked = iter(NOT_OPINION_RE.finditer(text))
    mask = next(masked, None)
    for match in OPINION_RE.finditer(text):
        while mask is not None and mask.end() <= match.start():
            mask = next(masked, None)
        if mask is not None and mask.start() <= match.start():
            continue
        polarity = opinion_polarity(match.group())
        # "不太好" and "不是不好" are both handled by counting negators in the window
        if negation_count(text, match.start()) % 2 == 1:
            polarity = -polarity
        hits.append((match.start(), match.end(), polarity))
    return hits


_SYMBOL_RE = re.compile("[" + "".join(EMOJI_POLARITY) + "]|\\[[^\\]]{1,4}\\]")


def symbol_score(text: str) -> int:
    """Net polarity of emoji and bracket emoticons ([赞], [怒])."""
    score = 0
    for match in _SYMBOL_RE.finditer(text):
        token = match.group()
        score += EMOJI_POLARITY.get(token, 0) if len(token) == 1 else BRACKET_EMOTICONS.get(token, 0)
    return score
