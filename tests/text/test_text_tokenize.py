from __future__ import annotations

import pickle
from pathlib import Path

import jieba
import pytest

from voc.settings import VocSettings
from voc.text.tokenize import CX_DICT_PATH, Tokenizer

JIEBA_DICT = Path(jieba.__file__).parent / "dict.txt"


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("快递柜里的东西被拿走了", "快递柜"),
        ("这家店退换货很麻烦", "退换货"),
        ("这个价格性价比不高", "性价比"),
        ("申请携号转网被拒绝", "携号转网"),
        ("每个月流量包都不够用", "流量包"),
        ("放在丰巢了也没通知", "丰巢"),
        ("骑手漏送了一份饮料", "漏送"),
        ("理财经理一直推销基金", "理财经理"),
    ],
)
def test_domain_words_kept_whole(tokenizer: Tokenizer, text: str, word: str) -> None:
    assert word in tokenizer.tokenize(text)


def test_domain_dictionary_is_what_keeps_them_whole(tokenizer: Tokenizer) -> None:
    jieba_words = {line.split()[0] for line in JIEBA_DICT.read_text(encoding="utf-8").splitlines()}
    for word in ["快递柜", "携号转网", "流量包", "七天无理由"]:
        # jieba's own dictionary does not have these (it cuts 快递|柜, 携号|转网, ...).
        assert word not in jieba_words
        assert tokenizer.segment(word) == [word]


def test_domain_dictionary_is_large_and_well_formed() -> None:
    entries = [line.split() for line in CX_DICT_PATH.read_text(encoding="utf-8").splitlines()
               if line and not line.startswith("#")]
    assert len(entries) >= 300
    assert all(len(e) == 3 and e[1].isdigit() and e[2].isalpha() for e in entries)
    assert len({e[0] for e in entries}) == len(entries)


def test_synonyms_folded_and_latin_lowercased(tokenizer: Tokenizer) -> None:
    assert tokenizer.tokenize("KF回复太慢") == ["客服", "回复", "太慢"]
    assert tokenizer.tokenize("快递小哥很负责")[0] == "快递员"
    assert "七天无理由" in tokenizer.tokenize("支持7天无理由退货吗")
    assert "iphone" in tokenizer.tokenize("买的iPhone很好")


def test_stopwords_punctuation_and_whitespace_removed(tokenizer: Tokenizer) -> None:
    tokens = tokenizer.tokenize("我的 快递，  了吗？！…… “好” —— ～")
    assert tokens == ["快递", "好"]


def test_negation_is_not_a_stopword(tokenizer: Tokenizer) -> None:
    assert tokenizer.tokenize("我不喜欢这个颜色") == ["不", "喜欢", "颜色"]
    assert "没有" in tokenizer.tokenize("没有收到货")


def test_emoji_kept_as_tokens_modifiers_dropped(tokenizer: Tokenizer) -> None:
    assert tokenizer.tokenize("好评👍🏻😂") == ["好评", "👍", "😂"]


def test_pii_placeholders_dropped_or_kept(tokenizer: Tokenizer) -> None:
    text = "请打[手机号]或者发[邮箱]联系"
    assert tokenizer.tokenize(text) == ["请", "打", "发", "联系"]
    keeping = Tokenizer(keep_placeholders=True)
    assert keeping.tokenize(text) == ["请", "打", "[手机号]", "发", "[邮箱]", "联系"]
    assert ("[手机号]", "pii") in keeping.tokenize_with_pos(text)


def test_tokenize_with_pos(tokenizer: Tokenizer) -> None:
    pairs = tokenizer.tokenize_with_pos("快递柜很难用，客服态度差")
    assert ("快递柜", "n") in pairs
    assert ("差", "a") in pairs
    assert [w for w, _ in pairs] == tokenizer.tokenize("快递柜很难用，客服态度差")


def test_index_terms_expand_like_search_mode(tokenizer: Tokenizer) -> None:
    tokens = tokenizer.tokenize("快递柜坏了")
    terms = tokenizer.index_terms(tokens)
    assert "快递" in terms and "快递柜" in terms
    # What jieba.cut_for_search gives for this phrase, without running jieba again.
    assert tokenizer.index_terms(["中华人民共和国"]) == ["中华", "华人", "人民", "共和", "共和国", "中华人民共和国"]
    assert tokenizer.index_terms(["iphone"]) == ["iphone"]


def test_is_known_word(tokenizer: Tokenizer) -> None:
    assert tokenizer.is_known_word("快递柜")  # domain dictionary
    assert tokenizer.is_known_word("质量")  # jieba's dictionary
    assert not tokenizer.is_known_word("喵速达")
    assert not tokenizer.is_known_word("快递柜坏")  # a prefix entry is not a word


def test_user_files_extend_and_override(tmp_path: Path) -> None:
    user_dict = tmp_path / "user.txt"
    user_dict.write_text("喵速达 50 nz\n柠檬茶王\n", encoding="utf-8")
    stopwords = tmp_path / "stop.txt"
    stopwords.write_text("真的\n", encoding="utf-8")
    synonyms = tmp_path / "syn.txt"
    # Adds a variant, and stops the built-in 外卖小哥 → 外卖员 fold by making it canonical.
    synonyms.write_text("喵速达\t喵速达快递,miao\n外卖小哥\t\n", encoding="utf-8")
    settings = VocSettings(user_dicts=[user_dict], stopwords_path=stopwords, synonyms_path=synonyms)
    custom = Tokenizer.from_settings(settings)
    assert custom.tokenize("喵速达快递真的很快") == ["喵速达", "很快"]
    assert custom.tokenize("MIAO到了") == ["喵速达", "到"]
    assert "柠檬茶王" in custom.tokenize("点了柠檬茶王")
    assert custom.tokenize("外卖小哥") == ["外卖小哥"]
    assert custom.is_known_word("喵速达")
    assert not Tokenizer().is_known_word("喵速达")  # user words never leak into other tokenizers


def test_missing_resource_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.txt"):
        Tokenizer(user_dicts=[tmp_path / "nope.txt"])


def test_pickle_round_trip(tokenizer: Tokenizer) -> None:
    copy = pickle.loads(pickle.dumps(tokenizer))
    text = "外卖小哥催单后还是漏送了，客服kf态度差"
    assert copy.tokenize(text) == tokenizer.tokenize(text)
    assert len(pickle.dumps(tokenizer)) < 2000  # configuration only, not the dictionary


def test_default_jieba_untouched(tokenizer: Tokenizer) -> None:
    tokenizer.tokenize("快递柜")
    assert not jieba.dt.FREQ.get("快递柜")  # the process-wide default is never extended


SHOPPING_CSV = Path(__file__).resolve().parents[3] / "shared/data/online_shopping_10_cats/online_shopping_10_cats.csv"
SENTENCES = [
    "快递柜里的东西被拿走了，客服kf态度差！！",
    "这家酒店隔音很差，前台小姐姐态度好，入住和退房都很快",
    "外卖小哥催单后还是漏送了，骑手不接电话😡",
    "中华人民共和国成立以来，结婚的和尚未结婚的都来了",
    "iPhone 12 Pro 的WiFi信号不好，3.5元的流量包不够用",
    "他来到了网易杭研大厦，小明硕士毕业于中国科学院计算所",
    "物业费年年涨，电梯三天两头坏，保安也不管",
    "理财经理推荐的基金亏了百分之二十，手续费还很高",
]


def test_fast_dag_search_is_identical_to_jieba(tokenizer: Tokenizer) -> None:
    """FastJieba overrides get_DAG/calc; routes must equal jieba's own on the same dictionary."""
    import csv

    sentences = list(SENTENCES)
    if SHOPPING_CSV.is_file():
        with SHOPPING_CSV.open(encoding="utf-8-sig") as handle:
            sentences += [row["review"] for _, row in zip(range(600), csv.DictReader(handle), strict=False)]
    fast = tokenizer._core.jieba
    for sentence in sentences:
        for block in jieba.re_han_default.findall(sentence):
            dag = jieba.Tokenizer.get_DAG(fast, block)
            assert fast.get_DAG(block) == dag
            expected: dict[int, tuple[float, int]] = {}
            actual: dict[int, tuple[float, int]] = {}
            jieba.Tokenizer.calc(fast, block, dag, expected)
            fast.calc(block, dag, actual)
            assert actual == expected
