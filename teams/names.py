"""Name search keys: 张三 is found by "zhangsan" and by "zs"."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def pinyin_keys(name: str) -> tuple[str, str]:
    """(full pinyin, initials), lower case, no spaces; heteronyms take the common reading."""
    syllables = lazy_pinyin(name, errors="ignore")
    initials = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")
    return "".join(syllables).lower()[:128], "".join(initials).lower()[:32]
