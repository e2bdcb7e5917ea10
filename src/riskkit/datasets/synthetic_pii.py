"""Synthetic personal data: Chinese names, GB 11643 resident ID numbers, mobile numbers.

Everything here is made up; the ID numbers are well-formed (valid check digit) but the area
codes are drawn from a small synthetic list, so they identify nobody.
"""

from __future__ import annotations

import numpy as np

from ..book.identity import gb11643_check_digit, id_number_valid  # noqa: F401 (public here too)

# common surnames with rough frequency weights
_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_SURNAME_W = np.r_[np.full(10, 6.0), np.full(20, 2.5), np.full(len(_SURNAMES) - 30, 1.0)]
_GIVEN_M = list("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林建国志文海峰晨亮成东阳")
_GIVEN_F = list("芳娜敏静丽艳娟霞秀英华慧巧美玲桂兰红梅琳燕萍颖雪琴云莉倩婷洁晶凤佳荣欣")
#: synthetic county-level area codes (6 digits) for the five regions of the sample book
AREA_CODES = ("411521", "411522", "411523", "411524", "411525")
_MOBILE_PREFIXES = np.array(
    ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
     "156", "157", "158", "159", "166", "170", "176", "177", "180", "181", "182", "183", "185",
     "186", "187", "188", "189", "191", "198", "199"]
)  # fmt: skip


def chinese_names(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    n = len(male)
    sur = np.array(_SURNAMES)[rng.choice(len(_SURNAMES), n, p=_SURNAME_W / _SURNAME_W.sum())]
    gm, gf = np.array(_GIVEN_M), np.array(_GIVEN_F)
    c1 = np.where(male, gm[rng.integers(0, len(gm), n)], gf[rng.integers(0, len(gf), n)])
    c2 = np.where(male, gm[rng.integers(0, len(gm), n)], gf[rng.integers(0, len(gf), n)])
    two = rng.random(n) < 0.7
    return np.char.add(np.char.add(sur, c1), np.where(two, c2, ""))


def id_numbers(
    rng: np.random.Generator, area: np.ndarray, birth: np.ndarray, male: np.ndarray
) -> np.ndarray:
    """Unique 18-character resident ID numbers: area + birth date + sequence (odd for men)
    + check character."""
    n = len(area)
    ymd = np.datetime_as_string(np.asarray(birth, dtype="datetime64[D]"), unit="D")
    ymd = np.char.replace(ymd, "-", "")

    def draw(k, male_k):
        seq = rng.integers(0, 500, k) * 2 + np.where(male_k, 1, 0)
        return np.char.zfill(seq.astype("U3"), 3)

    seq = draw(n, male)
    body = np.char.add(np.char.add(np.asarray(area, dtype="U6"), ymd), seq)
    for _ in range(50):  # redraw the (rare) duplicates
        _, first = np.unique(body, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        body[dup] = np.char.add(
            np.char.add(area[dup].astype("U6"), ymd[dup]), draw(dup.sum(), male[dup])
        )
    return np.char.add(body, gb11643_check_digit(body))


def mobile_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    pre = _MOBILE_PREFIXES[rng.integers(0, len(_MOBILE_PREFIXES), n)]
    rest = np.char.zfill(rng.integers(0, 100_000_000, n).astype("U8"), 8)
    return np.char.add(pre, rest)
