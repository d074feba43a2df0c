"""Traditional-Chinese feedback from Hong Kong and Taiwan customers, written to stay inside Big5.

Big5 lacks most Cantonese-only characters (啲, 嘅, 咗 are HKSCS extensions), so HK voices here write
standard written Chinese, as most HK online reviews do. The generator encodes strictly, so a stray
character outside Big5 (or a simplified one slipping in) fails loudly instead of turning into '?'.
"""

from __future__ import annotations

from voc.demo._compose import Phrases
from voc.demo._util import Aspect, Lexicon

TRADITIONAL = Phrases(
    open_neg=["說真的，", "第一次寫負評，", "忍很久了，", "真的很無言，", "奉勸大家，", "唉，", "講真，", "避雷！"],
    close_neg=["不會再來了", "很失望", "負評", "誰受得了？", "這就是你們的服務？", "希望改善", "真的傻眼", "氣死",
               "太誇張了吧", "差勁"],
    open_pos=["大推！", "整體來說，", "第二次來了，", "真心推薦，", "老實說，", "讚！"],
    close_pos=["會再光顧", "推推", "五星好評", "值得", "超讚", "給個讚", "CP值很高", "好評"],
    follow_neg=["打電話去客服也沒用", "反映了好幾次都沒改善", "問了半天也沒有答案", "店長也不出來處理"],
    when=["昨天", "上星期", "今天中午", "上個月", "週末", "前幾天"],
    contrast_neg=["雖然{p}，但是{n}", "{p}，可是{n}", "其他都還好，就是{n}", "{p}沒錯，但{n}"],
    contrast_pos=["雖然{n}，但是{p}", "除了{n}，其他都不錯", "{n}，不過{p}"],
    neutral_prefix=["整體還可以，", "普通，", "沒什麼大問題，", "一點建議：", "想請問一下，"],
    neutral_suffix=["謝謝", "希望參考", "辛苦了"],
    mixed=["還可以啦，{p}，只是{n}", "普普通通，{p}，不過{n}"],
    joiners=["，", "。", "，而且", "！", "；", "，另外"],
)

HANT_RETAIL = Lexicon(
    industry="retail",
    slots={
        "store": ["好鄰居超市信義店", "好鄰居超市板橋店", "惠康佳超市旺角店", "惠康佳超市沙田店", "美日生活館台中店",
                  "百佳福超市銅鑼灣店", "全家福便利商店中山店", "小確幸生活百貨高雄店"],
        "product": ["鮮奶", "衛生紙", "洗髮精", "便當", "咖啡", "水果禮盒", "麵包", "洗衣精", "保溫瓶", "泡麵"],
        "staff": ["店員", "收銀員", "櫃檯小姐", "店長", "工讀生"],
    },
    aspects={
        "店員態度": Aspect(
            neg=["{staff}態度很差，問問題愛理不理", "{staff}一直在聊天，叫了好幾次都不理人", "{staff}講話很不客氣",
                 "結帳的時候{staff}臉很臭"],
            pos=["{staff}很親切，還主動幫忙找{product}", "{staff}服務態度很好，很有耐心", "{staff}笑容很溫暖"],
            ask=["希望員工訓練可以加強"],
        ),
        "排隊結帳": Aspect(
            neg=["只開一個收銀台，排了快半小時", "自助結帳機常常故障", "假日結帳排隊排到門口"],
            pos=["結帳很快，不用等", "自助結帳很方便"],
            ask=["尖峰時段可以多開幾個收銀台嗎？"],
        ),
        "價格": Aspect(
            neg=["價錢越來越貴", "標價跟結帳價格不一樣", "會員價根本沒有比較便宜", "比其他超市貴不少"],
            pos=["價錢實在，常常有特價", "{product}特價很划算"],
            ask=["會員日可以多一點折扣嗎？"],
        ),
        "商品品質": Aspect(
            neg=["買的{product}回家發現過期了", "水果放兩天就爛了", "便當冷冰冰的，還有怪味"],
            pos=["{product}很新鮮", "品質穩定，買得安心"],
        ),
        "退換貨": Aspect(
            neg=["退貨一定要發票，發票早就丟了", "換貨要等一個星期", "退款退了兩個星期還沒收到"],
            pos=["退貨很順利，沒有刁難", "換貨很快"],
            ask=["退貨流程可以簡化一點嗎？"],
        ),
        "環境": Aspect(
            neg=["店裡地板很滑", "貨架亂七八糟，東西很難找", "冷氣太冷了"],
            pos=["店裡乾淨整齊", "環境很舒服，逛起來很開心"],
        ),
    },
    weights={"店員態度": 2.0, "價格": 1.5},
    short_neg=["很差", "失望", "不推", "服務很差"],
    short_pos=["很好", "不錯", "推", "滿意", "讚"],
    short_neutral=["還好", "普通", "沒意見", "無"],
)

HANT_TELECOM = Lexicon(
    industry="telecom",
    slots={
        "op": ["遠通電訊", "星河電信", "港聯流動"],
        "store": ["{op}門市", "{op}旺角門市", "{op}西門門市", "{op}台中門市"],
        "product": ["499吃到飽方案", "月費計劃 $198", "5G 上網吃到飽", "光纖寬頻 1G", "家用寬頻方案", "預付卡"],
    },
    aspects={
        "網路斷線": Aspect(
            neg=["家裡寬頻每天晚上都斷線", "網路斷了三天，報修都沒人來", "網速慢到連影片都看不了",
                 "光纖說是1G，測速只有幾十M"],
            pos=["報修後師傅當天就來修好了", "網速很穩定，打遊戲都不會卡"],
            ask=["斷線期間可以補償嗎？"],
        ),
        "帳單扣費": Aspect(
            neg=["帳單多了一筆莫名其妙的費用", "從來沒申請的加值服務每個月都在扣錢", "解約還要收一大筆違約金",
                 "帳單寫得很複雜，看不懂"],
            pos=["帳單很清楚，多收的錢也退了"],
            ask=["可以每個月寄詳細帳單嗎？"],
        ),
        "訊號": Aspect(
            neg=["家裡訊號只有一格，講電話一直斷", "地下室完全沒有訊號", "5G訊號時有時無"],
            pos=["訊號很好，搭捷運也很穩", "5G速度真的很快"],
        ),
        "方案資費": Aspect(
            neg=["說是吃到飽，用到一定流量就降速", "老客戶的方案比新客戶貴，不公平", "續約被推銷更貴的方案"],
            pos=["方案很划算", "{product}很實惠"],
            ask=["有沒有比較便宜的方案？", "老客戶可以享有新客戶的優惠嗎？"],
        ),
        "門市客服": Aspect(
            neg=["門市排隊等了一個多小時", "客服電話一直轉來轉去，等了半天", "門市人員只想推銷手機"],
            pos=["門市人員很專業，幫我挑了適合的方案", "客服很快就幫我處理好了"],
        ),
    },
    weights={"網路斷線": 1.8, "帳單扣費": 1.8, "訊號": 1.5},
    short_neg=["很爛", "訊號很差", "失望", "不推"],
    short_pos=["不錯", "很好", "推", "滿意"],
    short_neutral=["普通", "還好", "沒意見"],
)

# Platforms HK and TW customers review on.
HANT_PLATFORMS = ["Google 評論", "Facebook", "PTT", "Dcard", "連登", "Google 評論"]
