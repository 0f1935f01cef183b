"""The words the generated feed is made of: German and Chinese place names and their parts,
given names and surnames, sectors, research topics, kinds of Chinese business, and the
transliteration of German umlauts for slugs and e-mail addresses."""

DE_ROOTS = (
    "Lichten Schön Rosen Eichen Linden Buchen Tannen Wolfs Frank Kaisers Königs Mühl Weiß "
    "Schwarz Grün Rot Sonnen Falken Adler Birken Erlen Hasel Stein Wasser Ehren Fried Marien "
    "Ludwigs Karls Wilhelms Oster Sulz Lauter Kirch Alten Neuen Hoh Blanken Bruch Dürr Ebers Frei "
    "Geis Hammel Heil Helm Hild Ilm Jagst Kloster Kron Land Lauf Lohr Mark Meers Mittel Nord "
    "Offen Otter Rems Ravens Rüdes Saal Salz Sieg Sonder Tauber Treis Vils Wald Wein Werder "
    "Wiesen Winter Wolfen Zell Süß Groß Schloss Bären Hirsch Fuchs Kranich Reichen Wendel"
).split()
DE_STEMS = (
    "berg burg feld hausen heim dorf stadt bach au ingen stein brück hagen wald rode kirchen "
    "furt hof weiler born beck büttel leben ried roda stedt tal wede werth zell"
).split()
DE_PREFIXES = ("Bad ", "Groß ", "Klein ", "Ober", "Nieder", "Unter", "Hohen", "Alt", "Neu")
DE_QUALIFIERS = (
    " am Main",
    " an der Lahn",
    " an der Donau",
    " am Rhein",
    " an der Elbe",
    " an der Oder",
    " im Odenwald",
    " im Schwarzwald",
    " in der Oberpfalz",
    " (Pfalz)",
    " (Westf.)",
    " (Saale)",
    " am Neckar",
    " an der Mosel",
    " bei Kassel",
    " bei München",
    " in Holstein",
    " am Harz",
    " im Allgäu",
    " an der Ilm",
)
DE_FIRST = (
    "Anna Maria Ursula Monika Petra Sabine Claudia Susanne Andrea Stefanie Julia Katharina Lena "
    "Laura Sophie Hannah Jürgen Klaus Stefan Michael Thomas Andreas Peter Wolfgang Frank Jörg "
    "Matthias Markus Tobias Florian Lukas Jonas Felix Günter Uwe Dieter Bernd Ralf Sven Björn"
).split()
DE_LAST = (
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
    "Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann "
    "Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König "
    "Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel "
    "Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht "
    "Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto "
    "Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn Kühn "
    "Pohl Engel Horn Busch Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer Weiler Wirtz"
).split()
ZH_PLACE = dict(
    zip(
        "东西南北新青长宁安平江河山海湖阳林华兴德福宝金明泰昌丰永定嘉和顺庆广清水石云龙凤黄白桂"
        "松合武汉成都苏杭温滨潍坊烟台淄博济惠鞍沙阜连鹤壁信义乌岳万",
        (
            "dong xi nan bei xin qing chang ning an ping jiang he shan hai hu yang lin hua xing de "
            "fu bao jin ming tai chang feng yong ding jia he shun qing guang qing shui shi yun "
            "long feng huang bai gui song he wu han cheng du su hang wen bin wei fang yan tai zi "
            "bo ji hui an sha fu lian he bi xin yi wu yue wan"
        ).split(),
        strict=True,
    )
)
ZH_SUFFIXES = (
    ("市", "City", "city", 6),
    ("区", "District", "district", 3),
    ("县", "County", "district", 2),
    ("镇", "Town", "city", 1),
)
ZH_SURNAMES = dict(
    zip(
        "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗",
        "Wang Li Zhang Liu Chen Yang Zhao Huang Zhou Wu Xu "
        "Sun Hu Zhu Gao Lin He Guo Ma Luo".split(),
        strict=True,
    )
)
ZH_GIVEN = dict(
    zip(
        "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉力鹏",
        (
            "wei fang na min jing li qiang lei jun yang yong yan jie juan tao ming chao xiu xia "
            "ping gang gui ying hua jian guo wen hui li peng"
        ).split(),
        strict=True,
    )
)
SECTORS = (
    "automotive",
    "software",
    "logistics",
    "mechanical engineering",
    "chemicals",
    "renewable energy",
    "medical technology",
    "tourism",
    "education",
    "agriculture",
    "Maschinenbau",
    "Kunststofftechnik",
    "新能源",
    "电子信息",
    "生物医药",
)
TOPICS = (
    "Werkstofftechnik",
    "Logistik",
    "Informatik",
    "Biotechnologie",
    "Energiesysteme",
    "Mikroelektronik",
    "Verfahrenstechnik",
    "Umweltforschung",
)
ZH_BUSINESS = dict(
    zip(
        ("科技", "电子", "机械", "物流", "医药", "新材料"),
        ("Technology", "Electronics", "Machinery", "Logistics", "Pharmaceutical", "New Materials"),
        strict=True,
    )
)
UMLAUTS = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        " ": "",
        "-": "",
        ".": "",
        "(": "",
        ")": "",
        "&": "",
    }
)
