"""Assemble hotline calls: greeting, verification, problem, agent response, resolution or escalation."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from voc.demo._hotline_lex import Script
from voc.demo._util import bank_card, fill, id_number, mobile, weighted

SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林"]

GREETING = ["您好，这里是{brand}客服，工号{agent_no}，很高兴为您服务，请问有什么可以帮您？",
            "您好，{brand}客服中心，请问有什么可以帮您？", "您好，欢迎致电{brand}，我是{agent_no}号客服，请讲。",
            "您好，很高兴为您服务，请问您遇到了什么问题？"]


@dataclass(frozen=True)
class Verify:
    """One way an agent checks identity, with the answers that fit it."""

    ask: str
    plain: Sequence[str]
    pii: Sequence[str] = ()      # answers that read a full number out; slots name the PII kind
    pii_kind: str | None = None  # "mobile" | "id_number" | "card"


VERIFY: dict[str, list[Verify]] = {
    "telecom": [
        Verify("请问您是机主本人吗？麻烦报一下机主姓名和身份证后六位", ["对，我是本人，姓{name}，后六位是{six}"],
               ["我叫{name}{given}，身份证号是{id_number}，你查吧",
                "身份证号{id_number}，名字{name}{given}"], "id_number"),
        Verify("为了核实身份，请您提供一下服务密码", ["密码是{six}", "{six}"]),
        Verify("麻烦您提供一下宽带账号或者装机地址",
               ["地址是{community}{building}栋{four}室", "{community}{building}栋"],
               ["宽带账号就是我手机号{mobile}"], "mobile"),
        Verify("请问您是用哪个号码办理的？", ["就是我现在打电话的这个号", "就这个号码"],
               ["我的手机号是{mobile}", "你记一下，{mobile}，这个号码就是我的"], "mobile"),
    ],
    "banking": [
        Verify("为了保障您的账户安全，请提供一下持卡人姓名和身份证号码", ["我叫{name}{given}，身份证后四位是{four}"],
               ["我叫{name}{given}，身份证号是{id_number}"], "id_number"),
        Verify("请您报一下卡号后四位和预留手机号", ["后四位{four}，手机号就是现在打的这个"],
               ["后四位{four}，预留手机{mobile}"], "mobile"),
        Verify("请问您是持卡人本人吗？麻烦报一下卡号", ["是本人，卡号后四位{four}"],
               ["卡号是{card}", "我念一下卡号啊，{card}", "{card}，就是这张卡"], "card"),
    ],
    "retail": [
        Verify("麻烦您提供一下会员手机号，我帮您查一下购买记录", ["会员是我老公的手机号，我记不清了，我姓{name}"],
               ["会员手机号{mobile}", "{mobile}"], "mobile"),
        Verify("请问您是在哪家门店购买的？有会员号吗？", ["就在{store}买的，没办会员"],
               ["在{store}，会员手机号是{mobile}"], "mobile"),
    ],
}
ACK = ["好的，已经核实了，谢谢您。", "好的{name}{title}，稍等我帮您查询一下。", "好的，请稍等。", "嗯好的，我看一下。"]
ASK_DETAIL = ["您别着急，能具体说一下是什么情况吗？", "好的，您能再详细描述一下吗？", "明白，还有其他的情况吗？"]
CALLBACK_PII = ["你们回电打这个号码：{mobile}", "我换号了，新号码是{mobile}，记一下"]
GIVEN = ["伟", "芳", "敏", "静", "强", "磊", "洋", "艳", "军", "娜", "建国", "秀英"]
ACCEPT = ["行吧，那你们尽快啊", "好的好的，谢谢你啊", "那好吧，我等你们电话", "嗯，知道了", "好，那就这样吧",
          "行，麻烦你了", "好的，辛苦了"]
THANKS = ["太好了，谢谢", "好的，谢谢，你们服务挺好的", "嗯嗯，解决了就好，谢谢", "哦这样啊，明白了，谢谢"]
ANGRY_GENERIC = ["你们每次都这么说！", "我已经打了{n_times}次电话了，到底有没有人管？", "我不想听道歉，我要解决问题",
                 "你给我找个能管事的人来", "又让我等？等到什么时候？"]
ANYTHING_ELSE = ["请问还有其他可以帮您的吗？", "还有其他问题需要咨询吗？"]
NOTHING = ["没有了", "没了", "暂时没有了", "嗯没有了，谢谢"]
CLOSING = ["感谢您的来电，稍后请对本次服务进行评价，祝您生活愉快，再见。", "好的，感谢您的耐心等待，再见。",
           "给您带来不便非常抱歉，感谢来电，再见。", "感谢您的理解和支持，再见。"]
BYE = ["嗯，拜拜", "好，再见", "拜拜", "嗯"]
PRAISE = ["你好，我打电话是想表扬一下你们的{who}，上次帮我处理得特别好", "我就想说一下，你们{who}服务真不错"]
PRAISE_WHO = {"telecom": ["装维师傅", "营业厅的小姑娘", "那个客服"], "banking": ["大堂经理", "理财经理", "柜员"],
              "retail": ["门店店长", "收银员", "导购"]}


@dataclass(frozen=True)
class Call:
    turns: list[tuple[str, str]]  # (role "agent"|"customer", text)
    topic: str
    has_pii: bool


class CallWriter:
    def __init__(self, rng: random.Random, industry: str, scripts: Mapping[str, Script],
                 slots: Mapping[str, Sequence[str]]) -> None:
        self.rng = rng
        self.industry = industry
        self.scripts = scripts
        self.slots = slots

    def topic(self, weights: Mapping[str, float]) -> str:
        return weighted(self.rng, weights)

    def call(self, topic: str, *, pii_p: float, cache: dict[str, str]) -> Call:
        rng = self.rng
        for key, options in (("name", SURNAMES), ("title", ["先生", "女士"]), ("given", GIVEN),
                             ("community", ["阳光花园", "翠湖苑", "幸福里", "江南华府", "城市之光"])):
            cache.setdefault(key, rng.choice(options))
        cache.setdefault("six", f"{rng.randint(0, 999_999):06d}")
        cache.setdefault("four", f"{rng.randint(0, 9999):04d}")
        cache.setdefault("month", str(rng.randint(3, 10)))
        script = self.scripts[topic].variant(rng)
        turns: list[tuple[str, str]] = []
        state = {"pii": False}

        def say(role: str, options: Sequence[str], end: str = "") -> None:
            turns.append((role, fill(rng.choice(options), rng, self.slots, cache) + end))

        def give_pii(kind: str, lines: Sequence[str]) -> None:
            cache[kind] = {"mobile": mobile, "id_number": id_number, "card": bank_card}[kind](rng)
            say("customer", lines)
            state["pii"] = True

        say("agent", GREETING)
        if rng.random() < 0.05:  # compliments do reach the hotline, briefly
            cache.setdefault("who", rng.choice(PRAISE_WHO[self.industry]))
            say("customer", PRAISE)
            say("agent", ["非常感谢您的认可，我们会把您的表扬转达给他。",
                          "谢谢您的表扬，我这边记录下来反馈给相关部门。"])
            say("customer", ["好的，就这事，拜拜", "嗯，应该的，再见"])
            say("agent", CLOSING)
            return Call(turns, "表扬", False)
        problem = fill(rng.choice(script.problem), rng, self.slots, cache)
        asks = any(word in problem for word in ("吗", "怎么", "多少", "哪", "什么", "能不能"))
        ends = ["？", "？", "。"] if asks else ["。", "。", "！", "…"]
        if rng.random() < 0.4:
            problem += "，" + fill(rng.choice(script.detail), rng, self.slots, cache)
            ends = ["。", "！"]
        turns.append(("customer", problem + rng.choice(ends)))
        optional: list[tuple[int, int]] = []  # (start, end) of turn pairs that may be cut to stay <= 12
        if rng.random() < 0.3:
            start = len(turns)
            say("agent", ASK_DETAIL)
            say("customer", script.detail)
            optional.append((start, len(turns)))
        if rng.random() < 0.7:
            verify = rng.choice(VERIFY[self.industry])
            say("agent", [verify.ask])
            if verify.pii_kind and rng.random() < pii_p * 1.6:  # not every check asks for a number
                give_pii(verify.pii_kind, verify.pii)
            else:
                say("customer", verify.plain)
            turns.append(("agent", fill(rng.choice(ACK), rng, self.slots, cache)
                          + fill(rng.choice(script.check), rng, self.slots, cache) + "。"))
        else:
            say("agent", script.check, "。")
        if script.inquiry:
            if rng.random() < 0.6:
                say("customer", ["那能帮我弄一下吗？", "好的，那怎么弄？", "嗯，还有别的办法吗？"])
                say("agent", script.fix if rng.random() < 0.75 else script.escalate, "。")
            say("customer", THANKS + ACCEPT)
        elif rng.random() < 0.45:  # resolved on the call
            say("customer", ["那怎么办呢？", "那现在能处理吗？", "嗯，那你帮我处理一下", "所以呢？"])
            say("agent", script.fix, "。")
            say("customer", ACCEPT + THANKS)
        else:  # the caller pushes back and the agent can only escalate
            say("customer", [*script.angry, *ANGRY_GENERIC])
            say("agent", script.escalate, "。")
            say("customer", [*ACCEPT, "你们最好说到做到", "行，我再等一次，再不解决我就投诉了",
                             "算了算了，跟你说也没用"])
            if not state["pii"] and rng.random() < pii_p:
                give_pii("mobile", CALLBACK_PII)
                say("agent", ["好的，已经帮您备注了回访号码。"])
        if rng.random() < 0.25:
            start = len(turns)
            say("agent", ANYTHING_ELSE)
            say("customer", NOTHING)
            optional.append((start, len(turns)))
        say("agent", CLOSING)
        if rng.random() < 0.5:
            say("customer", BYE)
        for start, end in reversed(optional):
            if len(turns) > 12:
                del turns[start:end]
        if len(turns) > 12 and turns[-1][0] == "customer":
            turns.pop()
        return Call(turns, topic, state["pii"])
