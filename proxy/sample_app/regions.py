"""Real administrative divisions (GB/T 2260 codes) for resident IDs, addresses and landlines."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    """The six digits a resident ID starts with."""
    province: str
    city: str
    district: str
    area_code: str
    """Landline trunk prefix, e.g. 010 or 0755."""
    since: int
    """First year the district had this code: an ID of someone born earlier would not validate."""

    @property
    def municipality(self) -> bool:
        return self.province == self.city


REGIONS: tuple[Region, ...] = (
    Region("110101", "北京市", "北京市", "东城区", "010", 1900),
    Region("110105", "北京市", "北京市", "朝阳区", "010", 1900),
    Region("110108", "北京市", "北京市", "海淀区", "010", 1900),
    Region("310104", "上海市", "上海市", "徐汇区", "021", 1900),
    Region("310115", "上海市", "上海市", "浦东新区", "021", 1992),
    Region("120101", "天津市", "天津市", "和平区", "022", 1900),
    Region("500103", "重庆市", "重庆市", "渝中区", "023", 1997),
    Region("440106", "广东省", "广州市", "天河区", "020", 1985),
    Region("440304", "广东省", "深圳市", "福田区", "0755", 1990),
    Region("440305", "广东省", "深圳市", "南山区", "0755", 1990),
    Region("330102", "浙江省", "杭州市", "上城区", "0571", 1983),
    Region("330106", "浙江省", "杭州市", "西湖区", "0571", 1983),
    Region("320102", "江苏省", "南京市", "玄武区", "025", 1983),
    Region("320506", "江苏省", "苏州市", "吴中区", "0512", 2000),
    Region("510107", "四川省", "成都市", "武侯区", "028", 1990),
    Region("420106", "湖北省", "武汉市", "武昌区", "027", 1983),
    Region("610113", "陕西省", "西安市", "雁塔区", "029", 1983),
    Region("370102", "山东省", "济南市", "历下区", "0531", 1983),
    Region("350203", "福建省", "厦门市", "思明区", "0592", 1983),
    Region("430104", "湖南省", "长沙市", "岳麓区", "0731", 1996),
    Region("210102", "辽宁省", "沈阳市", "和平区", "024", 1983),
    Region("230103", "黑龙江省", "哈尔滨市", "南岗区", "0451", 1983),
    Region("530102", "云南省", "昆明市", "五华区", "0871", 1983),
    Region("340104", "安徽省", "合肥市", "蜀山区", "0551", 2002),
    Region("360103", "江西省", "南昌市", "西湖区", "0791", 1983),
)

STREETS: tuple[str, ...] = (
    "建国路",
    "人民路",
    "解放路",
    "中山路",
    "长安街",
    "科技园路",
    "文三路",
    "学府路",
    "滨江大道",
    "新华街",
    "和平里大街",
    "东风路",
    "青年路",
    "迎宾大道",
    "湖滨路",
    "光明街",
    "桂花巷",
    "幸福路",
    "云山路",
    "金融街",
)

ESTATES: tuple[str, ...] = (
    "阳光花园",
    "锦绣家园",
    "翠湖小区",
    "金地名苑",
    "碧桂园",
    "万科城",
    "绿地公馆",
    "世纪新城",
)
