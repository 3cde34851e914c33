"""A seeded generator of a German-like NER corpus in GermEval 2014 style.

Why this exists: the pipeline must run end to end offline, on any machine, without
downloading GermEval 2014 (whose licence and hosting we do not control). This module is the
embedded default corpus (``corpus.source: demo``): pure Python, deterministic for a seed, and
fast enough to build thousands of sentences in well under a second.

It imitates the properties of GermEval 2014 that matter for tuning a tagger, so that the
demo is not trivially easy:

* all 12 outer entity types: PER, LOC, ORG, OTH and their ``deriv`` (``deutschen``,
  ``Berliner``, ``Müllersche``) and ``part`` (``EU-Gipfel``, ``Linux-Rechner``,
  ``Deutschlandreise``) variants, with multi-token entities (``Karl von Lindberg``,
  ``Freie Universität Waldheim``, ``„ Der stille Wald “``) and a few nested tags;
* German capitalisation: every noun is capitalised, so a capital letter alone does not mark
  an entity, while adjectival derivations such as ``deutsche`` are lowercase;
* ambiguous words that are an entity in one sentence and a plain noun in another (``Bach``,
  ``Essen``, ``Mark``, ``Fischer``, ``Koch``, ``Halle`` ...);
* name inventories built partly from syllables, with about a third of every inventory held
  out of the training split, so dev and test contain many entity strings never seen in
  training;
* more than 40 sentence templates of 6 to 30 tokens with punctuation, numbers and dates,
  sentences with several entities and about a fifth of sentences with none.

The grammar is deliberately small (articles, adjective endings and a few contractions are
right; genitives are avoided). It is a stand-in for real data, not a language model.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from nerhpo.data.corpus import Sentence

__all__ = ["ENTITY_TYPES", "NOUNS", "SPLITS", "generate_corpus"]

SPLITS = ("train", "dev", "test")
ENTITY_TYPES = tuple(b + s for b in ("PER", "LOC", "ORG", "OTH") for s in ("", "deriv", "part"))

HELD_OUT_FRACTION = 0.35  # share of every name inventory that never appears in train
HELD_OUT_PICK = 0.1  # in dev/test: chance that a name is drawn from the held-out share
AMBIGUOUS_PICK = 0.12  # chance of drawing an ambiguous name (Bach, Essen, ...) from a pool
EMPTY_SHARE = 0.06  # sentences generated in entity-free mode (others may be empty by chance)
MIN_TOKENS, MAX_TOKENS = 6, 30

Tok = tuple[str, str, str]  # token, outer tag, nested tag

# --------------------------------------------------------------------------- lexicon

# fmt: off

# Common nouns with grammatical gender; several double as names (see _AMBIGUOUS_*).
NOUNS: tuple[tuple[str, str], ...] = (
    ("Regierung", "f"), ("Bericht", "m"), ("Vertrag", "m"), ("Projekt", "n"), ("Reform", "f"),
    ("Politik", "f"), ("Wirtschaft", "f"), ("Unternehmen", "n"), ("Gipfel", "m"),
    ("Konferenz", "f"), ("Ausstellung", "f"), ("Studie", "f"), ("Entscheidung", "f"),
    ("Gesetz", "n"), ("Markt", "m"), ("Firma", "f"), ("Konzern", "m"), ("Minister", "m"),
    ("Sprecher", "m"), ("Trainer", "m"), ("Spiel", "n"), ("Stadion", "n"), ("Festival", "n"),
    ("Konzert", "n"), ("Museum", "n"), ("Theater", "n"), ("Zeitung", "f"), ("Wahl", "f"),
    ("Bahnhof", "m"), ("Flughafen", "m"), ("Hafen", "m"), ("Krankenhaus", "n"), ("Schule", "f"),
    ("Universität", "f"), ("Kirche", "f"), ("Rathaus", "n"), ("Polizei", "f"), ("Feuerwehr", "f"),
    ("Haus", "n"), ("Garten", "m"), ("Wald", "m"), ("Bach", "m"), ("Stein", "m"), ("Wolf", "m"),
    ("Rose", "f"), ("Essen", "n"), ("Fischer", "m"), ("Koch", "m"), ("Bauer", "m"),
    ("Richter", "m"), ("Schneider", "m"), ("Weber", "m"), ("König", "m"), ("Kaiser", "m"),
    ("Vogel", "m"), ("Fuchs", "m"), ("Halle", "f"), ("Hof", "m"), ("Winter", "m"), ("Sommer", "m"),
    ("Kritik", "f"), ("Debatte", "f"), ("Streit", "m"), ("Plan", "m"), ("Antrag", "m"),
    ("Vorschlag", "m"), ("Auftrag", "m"), ("Umsatz", "m"), ("Gewinn", "m"), ("Verlust", "m"),
    ("Aktie", "f"), ("Version", "f"), ("Rechner", "m"), ("Anhänger", "m"), ("Chef", "m"),
    ("Reise", "f"), ("Preis", "m"), ("Film", "m"), ("Roman", "m"), ("Buch", "n"), ("Album", "n"),
    ("Lied", "n"), ("Mannschaft", "f"), ("Verein", "m"), ("Sieg", "m"), ("Niederlage", "f"),
    ("Tor", "n"), ("Fan", "m"), ("Strafe", "f"), ("Steuer", "f"), ("Brücke", "f"), ("Straße", "f"),
    ("Krise", "f"), ("Initiative", "f"), ("Programm", "n"), ("Verfahren", "n"), ("Gericht", "n"),
    ("Urteil", "n"), ("Netz", "n"), ("Zentrum", "n"), ("Ergebnis", "n"),
)
_ADJS = (
    "neu", "alt", "groß", "klein", "wichtig", "umstritten", "letzt", "geplant", "aktuell",
    "öffentlich", "politisch", "wirtschaftlich", "sozial", "international", "jung", "lang",
    "stark", "offiziell", "erfolgreich", "gemeinsam", "regional", "modern", "schwer",
)
_PRED_ADJS = (
    "wichtig", "umstritten", "falsch", "richtig", "notwendig", "gefährlich", "erfolgreich",
    "schwierig", "unklar", "gut", "schlecht", "teuer", "überfällig", "stark",
)
_SAY = ("sagte", "erklärte", "betonte", "meinte", "versicherte", "warnte", "schrieb")
_VT = (
    "kritisierte", "unterstützte", "begrüßte", "prüfte", "stoppte", "verschob", "plante",
    "präsentierte", "veröffentlichte", "übernahm", "kaufte", "verklagte", "lobte", "forderte",
)
_PP = (
    "unterzeichnet", "vorgestellt", "abgelehnt", "verschoben", "beschlossen", "eröffnet",
    "kritisiert", "gestoppt", "verkauft", "gelobt",
)
_ROLES = (
    "Sprecher", "Sprecherin", "Chef", "Trainer", "Geschäftsführer", "Direktor", "Professor",
    "Kapitän", "Koch", "Richter", "Fahrer", "Berater", "Vorsitzender", "Ministerin",
)
_PLURALS = (
    "Besucher", "Menschen", "Fahrzeuge", "Stimmen", "Teilnehmer", "Zuschauer", "Fans", "Kinder",
    "Touristen", "Mitglieder", "Studenten",
)
_TIMES = (
    ("gestern",), ("heute",), ("am", "Montag"), ("am", "Wochenende"),
    ("im", "vergangenen", "Jahr"), ("in", "dieser", "Woche"), ("am", "Dienstagabend"),
    ("vor", "drei", "Jahren"), ("seit", "Wochen"), ("am", "Freitag"), ("im", "Sommer"),
    ("im", "Winter"),
)
_MONTHS = (
    "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
    "November", "Dezember",
)
_WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
_CURRENCIES = ("Euro", "Euro", "Dollar", "Mark", "Franken")

# Articles and adjective endings by article kind, case and gender ("pl" = plural).
_DEF = {
    "nom": {"m": "der", "f": "die", "n": "das", "pl": "die"},
    "acc": {"m": "den", "f": "die", "n": "das", "pl": "die"},
    "dat": {"m": "dem", "f": "der", "n": "dem", "pl": "den"},
}
_DEF_END = {
    "nom": {"m": "e", "f": "e", "n": "e", "pl": "en"},
    "acc": {"m": "en", "f": "e", "n": "e", "pl": "en"},
    "dat": {"m": "en", "f": "en", "n": "en", "pl": "en"},
}
_INDEF = {
    "nom": {"m": "ein", "f": "eine", "n": "ein"}, "acc": {"m": "einen", "f": "eine", "n": "ein"},
    "dat": {"m": "einem", "f": "einer", "n": "einem"},
}
_INDEF_END = {
    "nom": {"m": "er", "f": "e", "n": "es"}, "acc": {"m": "en", "f": "e", "n": "es"},
    "dat": {"m": "en", "f": "en", "n": "en"},
}
_CONTRACT = {
    ("in", "dem"): "im", ("von", "dem"): "vom", ("zu", "dem"): "zum", ("bei", "dem"): "beim",
    ("an", "dem"): "am", ("zu", "der"): "zur",
}

# Heads of compounds with a name as first part ("part" types), by entity base type.
_PART_HEADS = {
    "PER": (
        ("Anhänger", "m"), ("Regierung", "f"), ("Ära", "f"), ("Biografie", "f"),
        ("Interview", "n"), ("Rücktritt", "m"), ("Affäre", "f"), ("Methode", "f"),
    ),
    "LOC": (
        ("Marathon", "m"), ("Reise", "f"), ("Besuch", "m"), ("Grenze", "f"), ("Urlaub", "m"),
        ("Vertrag", "m"), ("Gipfel", "m"), ("Politik", "f"),
    ),
    "ORG": (
        ("Chef", "m"), ("Gipfel", "m"), ("Sprecher", "m"), ("Aktie", "f"), ("Zentrale", "f"),
        ("Fraktion", "f"), ("Mitglied", "n"), ("Vorstand", "m"), ("Parteitag", "m"),
        ("Konzern", "m"),
    ),
    "OTH": (
        ("Rechner", "m"), ("Version", "f"), ("Nutzer", "m"), ("Premiere", "f"),
        ("Verfilmung", "f"), ("Update", "n"), ("Folge", "f"), ("Kommissar", "m"),
    ),
}
# LOC compounds may also be written as one word: "Deutschlandreise", "Europaparlament".
_FUSED_LOC_HEADS = (
    ("reise", "f"), ("besuch", "m"), ("urlaub", "m"), ("tour", "f"), ("politik", "f"),
    ("parlament", "n"), ("karte", "f"),
)

# ----------------------------------------------------------------------- name material

_FIRST_NAMES = (
    "Anna", "Maria", "Julia", "Laura", "Lena", "Sarah", "Katharina", "Sophie", "Lisa", "Hannah",
    "Angela", "Ursula", "Petra", "Sabine", "Monika", "Claudia", "Andrea", "Birgit", "Karin",
    "Heike", "Susanne", "Christine", "Eva", "Thomas", "Michael", "Andreas", "Stefan", "Peter",
    "Klaus", "Jürgen", "Wolfgang", "Frank", "Markus", "Christian", "Martin", "Sebastian", "Tobias",
    "Jan", "Jonas", "Lukas", "Felix", "Max", "Paul", "Hans", "Karl", "Heinz", "Helmut", "Gerhard",
    "Uwe", "Dieter", "Mark", "Olaf", "Horst", "Bernd", "Ralf", "Jens", "Matthias", "Florian",
    "Philipp", "Daniel", "Rose",
)
_SURNAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz",
    "Zimmermann", "Braun", "Krüger", "Hartmann", "Lange", "Werner", "Krause", "Lehmann", "Köhler",
    "Herrmann", "König", "Walter", "Huber", "Kaiser", "Fuchs", "Peters", "Scholz", "Möller",
    "Jung", "Hahn", "Vogel", "Keller", "Günther", "Berger", "Winkler", "Lorenz", "Baumann",
    "Albrecht", "Schuster", "Böhm", "Winter", "Sommer", "Schumacher", "Krämer", "Vogt", "Stein",
    "Jäger", "Brandt", "Haas", "Schreiber", "Dietrich", "Ziegler", "Kuhn", "Pohl", "Engel", "Horn",
    "Busch", "Bergmann", "Voigt", "Arnold", "Pfeiffer", "Bach", "Rose", "Merkel", "Kohl", "Brecht",
    "Goethe", "Schiller", "Halle",
)
_AMBIGUOUS_SURNAMES = (
    "Bach", "Stein", "Wolf", "Rose", "Fischer", "Koch", "Bauer", "Richter", "Schneider", "Weber",
    "König", "Kaiser", "Vogel", "Fuchs", "Winter", "Sommer", "Halle",
)
_SURNAME_STEMS = (
    "Hof", "Lind", "Brand", "Kreutz", "Rau", "Stahl", "Wies", "Holz", "Feld", "Kirch", "Eck",
    "Bruck", "Hart", "Gold", "Silber", "Eisen", "Grün", "Roth", "Wein", "Ros", "Kamp", "Lenz",
    "Mohr", "Reich", "Sieg", "Stark", "Thal", "Ober", "Kling", "Hellw", "Dorn", "Brenn",
)
_SURNAME_SUFFIXES = (
    "mann", "er", "berg", "ner", "inger", "ke", "hoff", "rich", "stedt", "bauer", "meier", "mayr",
    "huber", "hauser", "feld", "ski", "witz", "ow", "ler", "ig",
)
_FIRST_A = (
    "Al", "Ben", "Cor", "Dar", "El", "Fen", "Gil", "Han", "Il", "Jo", "Kas", "Le", "Mar", "Ni",
    "Os", "Pe", "Ri", "Se", "Ta", "Ul", "Ve", "Wil", "Ro", "Gun",
)
_FIRST_B = (
    "da", "na", "ra", "lin", "mar", "bert", "win", "fried", "hild", "trud", "mund", "ine", "ea",
    "o", "as", "rik", "ina", "old", "ke", "ian",
)

# (city, adjective/inhabitant form); the adjective is capitalised and does not inflect.
_CITIES = (
    ("Berlin", "Berliner"), ("Hamburg", "Hamburger"), ("München", "Münchner"), ("Köln", "Kölner"),
    ("Frankfurt", "Frankfurter"), ("Stuttgart", "Stuttgarter"), ("Düsseldorf", "Düsseldorfer"),
    ("Dortmund", "Dortmunder"), ("Essen", "Essener"), ("Leipzig", "Leipziger"),
    ("Bremen", "Bremer"), ("Dresden", "Dresdner"), ("Hannover", "Hannoveraner"),
    ("Nürnberg", "Nürnberger"), ("Bochum", "Bochumer"), ("Bonn", "Bonner"),
    ("Münster", "Münsteraner"), ("Kiel", "Kieler"), ("Halle", "Hallenser"), ("Hof", "Hofer"),
    ("Mainz", "Mainzer"), ("Potsdam", "Potsdamer"), ("Rostock", "Rostocker"), ("Wien", "Wiener"),
    ("Zürich", "Zürcher"), ("Graz", "Grazer"), ("Basel", "Basler"), ("Paris", "Pariser"),
    ("London", "Londoner"), ("Prag", "Prager"),
)
_AMBIGUOUS_CITIES = ("Essen", "Halle", "Hof")
_CITY_STEMS = (
    "Wald", "Lind", "Rosen", "Eich", "Birken", "Stein", "Wolfs", "Mühl", "Kirch", "Neu", "Alt",
    "Ober", "Nieder", "Hohen", "Schön", "Fried", "Wein", "Sand", "Falken", "Hasel", "Buch",
    "Erlen", "Marien", "Königs", "Weiden", "Grün",
)
_CITY_SUFFIXES = (
    "heim", "dorf", "burg", "hausen", "stadt", "feld", "au", "ingen", "berg", "brück", "rode",
    "tal", "hagen", "kirchen", "born", "bach", "stedt",
)
# (country, gender or None, adjective stem, inhabitants nominative plural, dative plural)
_COUNTRIES = (
    ("Deutschland", None, "deutsch", "Deutschen", "Deutschen"),
    ("Frankreich", None, "französisch", "Franzosen", "Franzosen"),
    ("Italien", None, "italienisch", "Italiener", "Italienern"),
    ("Spanien", None, "spanisch", "Spanier", "Spaniern"),
    ("Polen", None, "polnisch", "Polen", "Polen"),
    ("Österreich", None, "österreichisch", "Österreicher", "Österreichern"),
    ("Schweiz", "f", "schweizerisch", "Schweizer", "Schweizern"),
    ("Russland", None, "russisch", "Russen", "Russen"),
    ("China", None, "chinesisch", "Chinesen", "Chinesen"),
    ("Japan", None, "japanisch", "Japaner", "Japanern"),
    ("England", None, "englisch", "Engländer", "Engländern"),
    ("Türkei", "f", "türkisch", "Türken", "Türken"),
    ("Griechenland", None, "griechisch", "Griechen", "Griechen"),
    ("Schweden", None, "schwedisch", "Schweden", "Schweden"),
    ("Ungarn", None, "ungarisch", "Ungarn", "Ungarn"),
    ("Tschechien", None, "tschechisch", "Tschechen", "Tschechen"),
    ("Portugal", None, "portugiesisch", "Portugiesen", "Portugiesen"),
    ("Europa", None, "europäisch", "Europäer", "Europäern"),
    ("Amerika", None, "amerikanisch", "Amerikaner", "Amerikanern"),
    ("Dänemark", None, "dänisch", "Dänen", "Dänen"),
    ("Norwegen", None, "norwegisch", "Norweger", "Norwegern"),
    ("Belgien", None, "belgisch", "Belgier", "Belgiern"),
    ("Bayern", None, "bayerisch", "Bayern", "Bayern"),
    ("Sachsen", None, "sächsisch", "Sachsen", "Sachsen"),
)
_COUNTRY_A = (
    "Val", "Mor", "Kar", "Tal", "Bren", "Lor", "Sar", "Kel", "Dra", "Mir", "Ves", "Os", "Tam",
    "Gor", "Ul", "Fen",
)
_COUNTRY_B = ("do", "a", "e", "i", "ra", "li", "go", "ne", "ta")
_REGIONS = (
    "Franken", "Westfalen", "Tirol", "Hessen", "Brandenburg", "Thüringen", "Elsass", "Ruhrgebiet",
    "Allgäu", "Schwarzwald",
)
_RIVERS = (
    ("Rhein", "m"), ("Donau", "f"), ("Elbe", "f"), ("Main", "m"), ("Mosel", "f"), ("Spree", "f"),
    ("Neckar", "m"), ("Isar", "f"), ("Oder", "f"), ("Weser", "f"),
)

_PARTIES = ("SPD", "CDU", "CSU", "FDP", "AfD", "ÖVP", "SVP")
_ACRONYM_LETTERS = "ABDEFGHKLMNPRSTUVW"
_COMPANIES = (
    "Siemens", "Bosch", "Adidas", "Volkswagen", "BMW", "Daimler", "Bayer", "SAP", "Porsche",
    "Henkel", "Allianz", "Puma",
)
_GENDERED_ORGS = (  # (words, gender, leading adjective stem)
    (("Telekom",), "f", None),
    (("Lufthansa",), "f", None),
    (("Bundestag",), "m", None),
    (("Bundesregierung",), "f", None),
    (("Bundesverfassungsgericht",), "n", None),
    (("EU",), "f", None),
    (("UNO",), "f", None),
    (("Nato",), "f", None),
    (("Bank",), "f", "deutsch"),
    (("Bahn",), "f", "deutsch"),
    (("Union",), "f", "europäisch"),
    (("Zeitung",), "f", "süddeutsch"),
    (("Spiegel",), "m", None),
    (("Verdi",), "f", None),
    (("IG", "Metall"), "f", None),
    (("Bundeswehr",), "f", None),
)
_MINISTRY_TOPICS = (
    "Umwelt", "Verkehr", "Gesundheit", "Bildung", "Arbeit", "Finanzen", "Forschung", "Justiz",
)
_ORG_DERIV = (
    "sozialdemokratisch", "christdemokratisch", "christsozial", "freidemokratisch",
    "nationalsozialistisch", "gewerkschaftlich",
)
_BRAND_A = (
    "Zen", "Lu", "Va", "Ko", "Mi", "Tra", "Ne", "Pol", "Ar", "Ve", "Sy", "Qua", "Or", "Fi", "Ba",
    "Del", "Xe", "Ta", "Cy", "No",
)
_BRAND_B = ("tri", "mo", "ro", "na", "ve", "li", "xa", "do", "ta", "ni", "ko")
_BRAND_C = ("x", "ra", "net", "on", "is", "a", "ex", "o", "um", "ix", "tec", "via")

_PRODUCTS = (
    "Linux", "Windows", "Android", "Firefox", "Excel", "Playstation", "iPhone", "Golf", "Passat",
    "Wikipedia",
)
_TITLES = (
    ("Die", "Blechtrommel"), ("Der", "Zauberberg"), ("Faust",), ("Tatort",),
    ("Krieg", "und", "Frieden"), ("Das", "Boot"), ("Lola", "rennt"),
    ("Good", "Bye", ",", "Lenin", "!"), ("Der", "Prozess"), ("Die", "Verwandlung"),
    ("Buddenbrooks",), ("Metropolis",),
)
_SINGLE_TITLES = ("Tatort", "Faust", "Metropolis", "Buddenbrooks")
_TITLE_ADJS = (
    "still", "dunkel", "letzt", "fremd", "verloren", "kalt", "blau", "schwarz", "ewig", "leise",
    "wild", "heimlich", "rot", "zweit",
)
_TITLE_NOUNS = (
    ("Wald", "m"), ("Nacht", "f"), ("Reise", "f"), ("Sommer", "m"), ("Haus", "n"), ("Spiel", "n"),
    ("Fluss", "m"), ("Stadt", "f"), ("Tod", "m"), ("Liebe", "f"), ("Feuer", "n"), ("Himmel", "m"),
    ("Insel", "f"), ("Zeit", "f"), ("Erbe", "n"), ("Schweigen", "n"), ("Stein", "m"),
)
_TITLE_PAIRS = (
    "Krieg", "Frieden", "Schuld", "Sühne", "Feuer", "Wasser", "Liebe", "Tod", "Stolz", "Vorurteil",
    "Brot", "Spiele", "Glanz", "Elend",
)
_EVENTS = (
    (("Oktoberfest",), "n"), (("Tour", "de", "France"), "f"),
    (("Eurovision", "Song", "Contest"), "m"), (("Berlinale",), "f"), (("Documenta",), "f"),
    (("Bundesliga",), "f"),
)
_EVENT_HEADS = (
    ("Filmfest", "n"), ("Jazzfestival", "n"), ("Stadtlauf", "m"), ("Weinfest", "n"),
    ("Kulturnacht", "f"),
)
_OTH_DERIV = ("olympisch", "paralympisch", "biblisch", "faustisch", "talmudisch", "homerisch")
_TITLE_INTROS = (
    ("Film", "m"), ("Roman", "m"), ("Buch", "n"), ("Album", "n"), ("Lied", "n"),
    ("Theaterstück", "n"), ("Serie", "f"), ("Oper", "f"),
)

# fmt: on

# ---------------------------------------------------------------------------- helpers


def _ent(
    words: tuple[str, ...] | list[str], etype: str, nested: tuple[str, ...] | None = None
) -> list[Tok]:
    return [
        (w, ("B-" if i == 0 else "I-") + etype, nested[i] if nested else "O")
        for i, w in enumerate(words)
    ]


def _o(*words: str) -> list[Tok]:
    return [(w, "O", "O") for w in words]


def _article(kind: str, case: str, gender: str) -> tuple[str, str]:
    """Article and adjective ending for ``kind`` def/indef, a case and a gender."""
    if kind == "indef" and gender != "pl":
        return _INDEF[case][gender], _INDEF_END[case][gender]
    return _DEF[case][gender], _DEF_END[case][gender]


def _city_adj(city: str) -> str:
    if city.endswith("ingen"):
        return city[:-2] + "er"
    if city.endswith("e"):
        return city + "r"
    return city + "er"


def _unique(rng: random.Random, make, count: int, exclude: set[str]) -> list:
    """Up to ``count`` distinct results of ``make(rng)`` whose key is not in ``exclude``."""
    out: dict[str, object] = {}
    for _ in range(count * 20):
        if len(out) >= count:
            break
        item = make(rng)
        key = item if isinstance(item, str) else repr(item)
        if key not in exclude and key not in out:
            out[key] = item
    return list(out.values())


@dataclass(frozen=True)
class _Org:
    words: tuple[str, ...]
    gender: str | None = None  # None: used without article ("Siemens")
    adj: str | None = None  # leading adjective stem inflected with the article ("Freie")
    nested: tuple[str, ...] | None = None


class _Inventory:
    """Name pools, each split into a part seen in training and a held-out part."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pools: dict[str, tuple[list, list, list]] = {}

    def add(self, key: str, items: list, ambiguous: tuple = ()) -> None:
        items = list(dict.fromkeys(items))
        self.rng.shuffle(items)
        amb = [x for x in items if x in ambiguous]
        free = [x for x in items if x not in ambiguous]
        n_held = int(round(len(items) * HELD_OUT_FRACTION))
        self.pools[key] = (amb + free[n_held:], free[:n_held], amb)

    def pick(self, rng: random.Random, key: str, split: str):
        seen, held, amb = self.pools[key]
        if amb and rng.random() < AMBIGUOUS_PICK:
            return rng.choice(amb)
        if split != "train" and held and rng.random() < HELD_OUT_PICK:
            return rng.choice(held)
        return rng.choice(seen)


def _build_inventory(seed: int) -> _Inventory:
    rng = random.Random(f"nerhpo-demo-inventory:{seed}")
    inv = _Inventory(rng)

    first = list(_FIRST_NAMES) + _unique(
        rng, lambda r: r.choice(_FIRST_A) + r.choice(_FIRST_B), 90, set(_FIRST_NAMES)
    )
    inv.add("first", first, ambiguous=("Mark", "Rose"))

    surnames = list(_SURNAMES) + _unique(
        rng, lambda r: r.choice(_SURNAME_STEMS) + r.choice(_SURNAME_SUFFIXES), 320, set(_SURNAMES)
    )
    inv.add("surname", surnames, ambiguous=_AMBIGUOUS_SURNAMES)

    gen_cities = _unique(
        rng,
        lambda r: r.choice(_CITY_STEMS) + r.choice(_CITY_SUFFIXES),
        200,
        {c for c, _ in _CITIES},
    )
    cities = list(_CITIES) + [(c, _city_adj(c)) for c in gen_cities]
    inv.add("city", cities, ambiguous=tuple(c for c in _CITIES if c[0] in _AMBIGUOUS_CITIES))

    def make_country(r: random.Random) -> tuple:
        stem = r.choice(_COUNTRY_A) + r.choice(_COUNTRY_B) + r.choice(("r", "n", "l", ""))
        if r.random() < 0.6:
            return (stem + "ien", None, stem.lower() + "isch", stem + "ier", stem + "iern")
        return (stem + "land", None, stem.lower() + "ländisch", stem + "länder", stem + "ländern")

    countries = list(_COUNTRIES) + _unique(rng, make_country, 40, {c[0] for c in _COUNTRIES})
    inv.add("country", countries)
    inv.add("region", list(_REGIONS), ambiguous=("Franken",))
    inv.add("river", list(_RIVERS))

    def make_street(r: random.Random) -> tuple:
        name = r.choice(surnames)
        head, gender = r.choice(
            (("straße", "f"), ("straße", "f"), ("weg", "m"), ("platz", "m"), ("allee", "f"))
        )
        return (name + head, gender)

    inv.add("street", _unique(rng, make_street, 120, set()))

    def make_brand(r: random.Random) -> str:
        name = r.choice(_BRAND_A) + r.choice(_BRAND_B) + r.choice(_BRAND_C)
        return name[0] + name[1:].lower()

    brands = _unique(rng, make_brand, 260, set(_COMPANIES) | set(_PRODUCTS))
    companies, product_brands = brands[:130], brands[130:]

    def make_acronym(r: random.Random) -> str:
        return "".join(r.choice(_ACRONYM_LETTERS) for _ in range(r.choice((2, 3, 3, 4))))

    acronyms = _unique(rng, make_acronym, 50, set(_PARTIES) | {"EU", "UNO", "SAP", "BMW"})
    parties = list(_PARTIES) + acronyms
    inv.add("party", parties)
    short_orgs = list(_COMPANIES) + companies + parties + ["EU", "UNO", "Nato", "Telekom"]
    inv.add("org_short", short_orgs)

    orgs: list[_Org] = [_Org((c,)) for c in _COMPANIES]
    orgs += [_Org(w, g, a) for w, g, a in _GENDERED_ORGS]
    orgs += [_Org((p,), "f") for p in parties]
    for c in companies:
        form = rng.random()
        if form < 0.4:
            orgs.append(_Org((c,)))
        else:
            orgs.append(_Org((c, "AG" if form < 0.75 else "GmbH"), "f"))
    for t in _MINISTRY_TOPICS:
        orgs.append(_Org(("Bundesministerium", "für", t), "n"))
    for city, adj in cities[:]:
        form = rng.random()
        if form < 0.07:
            orgs.append(_Org(("Universität", city), "f", None, ("O", "B-LOC")))
        elif form < 0.10:
            orgs.append(
                _Org(("Universität", city), "f", rng.choice(("frei", "technisch")), ("O", "B-LOC"))
            )
        elif form < 0.16:
            orgs.append(
                _Org((rng.choice(("FC", "SV", "VfB", "TSV")), city), "m", None, ("O", "B-LOC"))
            )
        elif form < 0.19:
            orgs.append(
                _Org(
                    (rng.choice(("Eintracht", "Borussia", "Fortuna")), city),
                    "f",
                    None,
                    ("O", "B-LOC"),
                )
            )
        elif form < 0.24:
            orgs.append(
                _Org((adj, rng.choice(("Zeitung", "Rundschau"))), "f", None, ("B-LOCderiv", "O"))
            )
        elif form < 0.27:
            orgs.append(_Org((adj, "SV"), "m", None, ("B-LOCderiv", "O")))
    inv.add("org", orgs)
    inv.add("org_deriv", list(_ORG_DERIV))

    products: list[tuple[str, ...]] = [(p,) for p in _PRODUCTS]
    for b in product_brands:
        form = rng.random()
        if form < 0.5:
            products.append((b,))
        elif form < 0.75:
            products.append((b, rng.choice("XSTZ") + str(rng.randint(1, 9))))
        else:
            products.append((b, rng.choice(("3000", "Pro", "Max", "One", "II"))))
    inv.add("product", products)
    inv.add("product_short", list(_PRODUCTS) + product_brands + list(_SINGLE_TITLES))

    def make_title(r: random.Random) -> tuple:
        form = r.random()
        noun, gender = r.choice(_TITLE_NOUNS)
        if form < 0.35:
            art, end = _article("def", "nom", gender)
            return ((art.capitalize(), r.choice(_TITLE_ADJS) + end, noun), None)
        if form < 0.55:
            a, b = r.sample(_TITLE_PAIRS, 2)
            return ((a, "und", b), None)
        if form < 0.75:
            city = r.choice(cities)[0]
            art = _DEF["nom"][gender].capitalize()
            return ((art, noun, r.choice(("von", "in", "über")), city), ("O", "O", "O", "B-LOC"))
        if form < 0.9:
            name = r.choice(first)
            art = _DEF["nom"][gender]
            return ((name, "und", art, noun), ("B-PER", "O", "O", "O"))
        return ((noun + r.choice(("spiel", "lied", "buch", "land")),), None)

    titles = [(t, None) for t in _TITLES] + _unique(rng, make_title, 150, set())
    inv.add("title", titles)

    events: list[_Org] = [_Org(w, g) for w, g in _EVENTS]
    for _city, adj in rng.sample(cities, 40):
        head, gender = rng.choice(_EVENT_HEADS)
        events.append(_Org((adj, head), gender, None, ("B-LOCderiv", "O")))
    inv.add("event", events)
    inv.add("oth_deriv", list(_OTH_DERIV))
    return inv


# ------------------------------------------------------------------- phrase builders


class _Builder:
    """Builds the phrases of one split from the inventory with the split's own RNG."""

    def __init__(self, inv: _Inventory, rng: random.Random, split: str) -> None:
        self.inv, self.rng, self.split = inv, rng, split

    def pick(self, key: str):
        return self.inv.pick(self.rng, key, self.split)

    # -- plain material

    def plain_np(self, case: str, with_adj: float = 0.3) -> list[Tok]:
        r = self.rng
        noun, gender = r.choice(NOUNS)
        art, end = _article("def" if r.random() < 0.75 else "indef", case, gender)
        toks = _o(art)
        if r.random() < with_adj:
            toks += _o(r.choice(_ADJS) + end)
        return toks + _o(noun)

    def date(self) -> list[Tok]:
        r = self.rng
        if r.random() < 0.25:
            return _o(r.choice(_WEEKDAYS))
        toks = _o(f"{r.randint(1, 28)}.", r.choice(_MONTHS))
        if r.random() < 0.3:
            toks += _o(str(r.randint(1990, 2014)))
        return toks

    def number(self) -> str:
        r = self.rng
        form = r.random()
        if form < 0.5:
            return str(r.randint(2, 99))
        if form < 0.8:
            return str(r.randint(100, 999))
        return f"{r.randint(1, 20)}.{r.randint(0, 999):03d}"

    def money(self) -> list[Tok]:
        r = self.rng
        if r.random() < 0.3:
            return _o(f"{r.randint(1, 9)},{r.randint(1, 9)}", "Millionen", r.choice(_CURRENCIES))
        return _o(self.number(), r.choice(_CURRENCIES))

    # -- named entities

    def person(self) -> list[Tok]:
        r = self.rng
        form = r.random()
        last = self.pick("surname")
        if form < 0.45:
            return _ent((self.pick("first"), last), "PER")
        if form < 0.7:
            return _ent((last,), "PER")
        if form < 0.85:
            title = r.choice((("Herr",), ("Frau",), ("Dr.",), ("Prof.",), ("Frau", "Dr.")))
            return _o(*title) + _ent((last,), "PER")
        if form < 0.93:
            return _ent((self.pick("first"), self.pick("first"), last), "PER")
        return _ent((self.pick("first"), "von", last), "PER")

    def city(self) -> list[Tok]:
        return _ent((self.pick("city")[0],), "LOC")

    def location(self, case: str) -> list[Tok]:
        r = self.rng
        form = r.random()
        if form < 0.42:
            return self.city()
        if form < 0.68:
            name, gender = self.pick("country")[:2]
            art = _o(_DEF[case][gender]) if gender else []
            return art + _ent((name,), "LOC")
        if form < 0.78:
            city = self.pick("city")[0]
            words = r.choice(
                (
                    (city, "am", "Main"),
                    ("Bad", city),
                    ("Sankt", city),
                    (city, "an", "der", "Oder"),
                    ("Neu-" + city,),
                )
            )
            return _ent(words, "LOC")
        if form < 0.86:
            return _ent((self.pick("region"),), "LOC")
        if form < 0.93:
            name, gender = self.pick("river")
            return _o(_DEF[case][gender]) + _ent((name,), "LOC")
        name, gender = self.pick("street")
        return _o(_DEF[case][gender]) + _ent((name,), "LOC")

    def organisation(self, case: str) -> list[Tok]:
        org: _Org = self.pick("org")
        if org.gender is None:
            return _ent(org.words, "ORG", org.nested)
        art, end = _article("def", case, org.gender)
        words, nested = org.words, org.nested
        if org.adj:
            words = (org.adj.capitalize() + end,) + words
            nested = ("O",) + nested if nested else None
        return _o(art) + _ent(words, "ORG", nested)

    def title(self) -> list[Tok]:
        words, nested = self.pick("title")
        return _ent(words, "OTH", nested)

    def other(self, case: str) -> list[Tok]:
        r = self.rng
        form = r.random()
        if form < 0.45:
            noun, gender = r.choice(_TITLE_INTROS)
            art, _ = _article("def", case, gender)
            return _o(art, noun, "„") + self.title() + _o("“")
        if form < 0.8:
            return _ent(self.pick("product"), "OTH")
        event: _Org = self.pick("event")
        return _o(_DEF[case][event.gender]) + _ent(event.words, "OTH", event.nested)

    # -- derivations and compounds inside a noun phrase

    def _frame(self, case: str, gender: str) -> tuple[list[Tok], str]:
        """Article (and sometimes a plain adjective) opening an NP, plus the adjective ending."""
        r = self.rng
        art, end = _article("def" if r.random() < 0.8 else "indef", case, gender)
        toks = _o(art)
        if r.random() < 0.15:
            toks += _o(r.choice(_ADJS) + end)
        return toks, end

    def _adj_np(self, case: str, stem: str, etype: str, inflect: bool = True) -> list[Tok]:
        """NP whose (last) adjective is the entity: "die deutsche Regierung"."""
        noun, gender = self.rng.choice(NOUNS)
        toks, end = self._frame(case, gender)
        return toks + _ent((stem + end if inflect else stem,), etype) + _o(noun)

    def loc_deriv(self, case: str) -> list[Tok]:
        r = self.rng
        form = r.random()
        if form < 0.55:
            return self._adj_np(case, self.pick("country")[2], "LOCderiv")
        if form < 0.85:
            return self._adj_np(case, self.pick("city")[1], "LOCderiv", inflect=False)
        country = self.pick("country")
        return _o(_DEF[case]["pl"]) + _ent(
            (country[4] if case == "dat" else country[3],), "LOCderiv"
        )

    def per_deriv(self, case: str) -> list[Tok]:
        stem = self.pick("surname") + "sch"
        if self.rng.random() < 0.4:
            stem = stem.lower()
        return self._adj_np(case, stem, "PERderiv")

    def org_deriv(self, case: str) -> list[Tok]:
        if self.rng.random() < 0.3:
            party = self.pick("party") + "ler"
            return _o(_DEF[case]["pl"]) + _ent(
                (party + "n" if case == "dat" else party,), "ORGderiv"
            )
        return self._adj_np(case, self.pick("org_deriv"), "ORGderiv")

    def oth_deriv(self, case: str) -> list[Tok]:
        return self._adj_np(case, self.pick("oth_deriv"), "OTHderiv")

    def part(self, base: str, case: str) -> list[Tok]:
        r = self.rng
        head, gender = r.choice(_PART_HEADS[base])
        if base == "PER":
            word = self.pick("surname") + "-" + head
        elif base == "ORG":
            word = self.pick("org_short") + "-" + head
        elif base == "OTH":
            word = self.pick("product_short") + "-" + head
        else:
            name = self.pick("country")[0] if r.random() < 0.5 else self.pick("city")[0]
            if r.random() < 0.4:
                head, gender = r.choice(_FUSED_LOC_HEADS)
                word = name + head
            else:
                word = name + "-" + head
        return self._frame(case, gender)[0] + _ent((word,), base + "part")

    def entity_np(self, etype: str | None, case: str) -> list[Tok]:
        """A noun phrase in ``case`` containing one entity of ``etype`` (None: no entity)."""
        if etype is None:
            return self.plain_np(case)
        if etype == "PER":
            return self.person()
        if etype == "LOC":
            return self.location(case)
        if etype == "ORG":
            return self.organisation(case)
        if etype == "OTH":
            return self.other(case)
        if etype == "LOCderiv":
            return self.loc_deriv(case)
        if etype == "PERderiv":
            return self.per_deriv(case)
        if etype == "ORGderiv":
            return self.org_deriv(case)
        if etype == "OTHderiv":
            return self.oth_deriv(case)
        return self.part(etype[:3], case)


# ------------------------------------------------------------------------- templates

# Slots: {ANY:case[:prep]} noun phrase with or without an entity, {NE:...} always an entity,
# {NP:...} never one, {PER} {LOC:...} {ORG:...} {OTH:...} {CITY} {TITLE} a typed entity;
# the rest fill in words, numbers and dates. Case is nom, acc or dat.
_TEMPLATES = (
    "{PER} {SAY} am {DATE} {LOC:dat:in} , {ANY:nom} sei {ADJ} .",
    "{ANY:nom} {VT} {TIME} {ANY:acc} .",
    "{TIME} {VT} {NE:nom} {ANY:acc} .",
    "{LOC:dat:in} wurden {TIME} mehr als {NUM} {PLN} gezählt .",
    "{ORG:nom} meldete für das Jahr {YEAR} einen Umsatz von {MONEY} .",
    "{PER} ( {AGE} ) spielt seit {YEAR} für {ORG:acc} .",
    "Wie {ORG:nom} am {DATE} mitteilte , soll {ANY:nom} bis {YEAR} fertig sein .",
    "„ {ANY:nom} ist {ADJ} “ , {SAY} {PER} .",
    "{ANY:dat:zu} kamen rund {NUM} {PLN} .",
    "Laut {ANY:dat} stieg der Preis {TIME} um {PCT} .",
    "{ANY:dat:bei} {LOC:dat:in} wurden {TIME} {NUM} Personen verletzt .",
    "{PER} lebt mit der Familie {LOC:dat:in} und arbeitet als {ROLE} {ORG:dat:bei} .",
    "Am {DATE} wird {ANY:nom} im Rathaus von {CITY} vorgestellt .",
    "{PER} las am Abend aus dem Roman „ {TITLE} “ .",
    "{OTH:nom} ist ab {DATE} für {MONEY} erhältlich .",
    "Die Aktie {ORG:dat:von} fiel {TIME} um {PCT} .",
    "{ANY:nom} wurde {TIME} {PP} .",
    "Auch {PER} , {ROLE} {ORG:dat:von} , äußerte sich kritisch über {ANY:acc} .",
    "{ORG:nom} gewann {TIME} gegen {ORG:acc} mit {SCORE} .",
    "Es war ein langer Tag für {ANY:acc} .",
    "Wer {ANY:acc} sehen will , muss am {DATE} früh kommen .",
    "Seit {YEAR} leitet {PER} {ANY:acc} .",
    "Im Jahr {YEAR} zog {PER} nach {CITY} , wo {PRON} {ANY:acc} gründete .",
    "{ANY:nom} und {ANY:nom} einigten sich {TIME} auf {ANY:acc} .",
    "Die Fischer am Bach klagen seit Wochen über {ANY:acc} .",
    "Zum Essen gab es Fisch aus {LOC:dat} und Wein {NP:dat:von} .",
    "Für {MONEY} bekam man damals {NP:acc} .",
    "Der Wolf wurde {TIME} im Wald bei {CITY} gesichtet .",
    "Nach dem Spiel {SAY} {ROLE} {PER} : „ Wir haben {ADJ} gespielt . “",
    "{ANY:nom} sorgt {LOC:dat:in} für Kritik .",
    "Der Koch des Restaurants kommt aus {LOC:dat} .",
    "{PER} , {PER} und {PER} gehören zum Kader {ORG:dat:von} .",
    "Die Polizei sucht nach Zeugen , die {TIME} etwas beobachtet haben .",
    "{TIME} blieb {NP:nom} wegen eines Streiks geschlossen .",
    "{ANY:dat:mit} will {ORG:nom} {TIME} {NP:acc} verbessern .",
    "Der Richter verurteilte den Mann zu einer Strafe von {MONEY} .",
    "Nach Angaben der Polizei war {ANY:nom} nicht {ADJ} .",
    "Die Ausstellung im Museum zeigt Bilder von {PER} und {PER} .",
    "{PER} ist {ROLE} {ORG:dat:bei} und wohnt {LOC:dat:in} .",
    "Ein Stein traf {TIME} das Fenster eines Hauses {LOC:dat:in} .",
    "Auf der Rose im Garten lag am Morgen noch Tau .",
    "Die Zahl der {PLN} {LOC:dat:in} stieg von {NUM} auf {NUM} .",
    "{ANY:nom} beginnt am {DATE} um {CLOCK} Uhr {ANY:dat:in} .",
    "Das Konzert von {PER} {LOC:dat:in} ist seit Wochen ausverkauft .",
    "{PER} gewann mit dem Film „ {TITLE} “ einen Preis in {CITY} .",
    "Bei der Wahl {LOC:dat:in} erhielt {ORG:nom} {PCT} der Stimmen .",
    "Der Bauer verkaufte den Hof für {MONEY} an {ANY:acc} .",
    "In der Halle von {CITY} spielte {PER} vor {NUM} Zuschauern .",
    "Der König {LOC:dat:von} besuchte {TIME} {ANY:acc} .",
    "Nutzer {OTH:dat:von} berichten über Probleme {ANY:dat:mit} .",
    "{ANY:nom} kostet nach Schätzungen {MONEY} und soll im {MONTH} beginnen .",
    "Ob {ANY:nom} {ADJ} ist , bleibt nach Ansicht von {PER} offen .",
    "Wegen des Wetters fiel das Spiel am {DATE} aus .",
    "{ANY:nom} {VT} {TIME} {ANY:acc} , {SAY} {ANY:nom} .",
    "{PER} , der seit {YEAR} als {ROLE} {ORG:dat:bei} arbeitet , {SAY} am {DATE} in {CITY} ,"
    " {ANY:nom} werde noch in diesem Jahr {PP} .",
    "Im Streit um {ANY:acc} haben sich {PER} und {PER} nach langen Verhandlungen {TIME} auf"
    " {ANY:acc} geeinigt , wie {ORG:nom} mitteilte .",
    "Die Ausstellung „ {TITLE} “ ist noch bis zum {DATE} im Museum von {CITY} zu sehen ,"
    " der Eintritt kostet {MONEY} .",
    "Rund {NUM} {PLN} aus {LOC:dat} und {LOC:dat} demonstrierten am {DATE} vor dem Rathaus"
    " gegen {ANY:acc} , die Polizei sprach von einem friedlichen Verlauf .",
    "Als {ROLE} {ORG:dat:von} hatte {PER} {TIME} {ANY:acc} {PP} , doch {ANY:nom} sieht darin"
    " keinen Grund für {NP:acc} .",
)

_ENTITY_SLOTS = {"PER", "LOC", "ORG", "OTH", "CITY", "TITLE", "NE"}
_FREE_SLOTS = {"ANY", "NE"}  # slots whose entity type is drawn (and can be forced)
_WORD_SLOTS = {
    "NP",
    "DATE",
    "YEAR",
    "NUM",
    "MONEY",
    "PCT",
    "AGE",
    "SCORE",
    "CLOCK",
    "TIME",
    "SAY",
    "VT",
    "PP",
    "ADJ",
    "ROLE",
    "PLN",
    "PRON",
    "MONTH",
}

# Relative weights of the entity type of an {ANY}/{NE} slot.
_TYPE_WEIGHTS = {
    "PER": 5,
    "LOC": 6,
    "ORG": 6,
    "OTH": 10,
    "LOCderiv": 22,
    "PERderiv": 7,
    "ORGderiv": 6,
    "OTHderiv": 6,
    "LOCpart": 7,
    "PERpart": 7,
    "ORGpart": 8,
    "OTHpart": 7,
}
_ANY_PLAIN = 0.4  # chance that an {ANY} slot holds no entity


@dataclass(frozen=True)
class _Template:
    items: tuple  # str (literal word) or tuple (slot name, case, preposition)
    free: tuple[int, ...]  # indices of {ANY}/{NE} slots
    has_entity_slot: bool


def _parse(text: str) -> _Template:
    items: list = []
    for word in text.split():
        if word.startswith("{") and word.endswith("}"):
            parts = word[1:-1].split(":")
            name = parts[0]
            if name not in _ENTITY_SLOTS | _FREE_SLOTS | _WORD_SLOTS:
                raise ValueError(f"unknown slot {word!r} in template {text!r}")
            items.append(
                (name, parts[1] if len(parts) > 1 else "nom", parts[2] if len(parts) > 2 else None)
            )
        else:
            items.append(word)
    free = tuple(i for i, it in enumerate(items) if isinstance(it, tuple) and it[0] in _FREE_SLOTS)
    has_entity = any(isinstance(it, tuple) and it[0] in _ENTITY_SLOTS - {"NE"} for it in items)
    has_entity = has_entity or any(items[i][0] == "NE" for i in free)
    return _Template(tuple(items), free, has_entity)


_PARSED = tuple(_parse(t) for t in _TEMPLATES)
_EMPTY_OK = tuple(t for t in _PARSED if not t.has_entity_slot)


def _fill_slot(b: _Builder, slot: tuple, etype: str | None) -> list[Tok]:
    name, case, prep = slot
    r = b.rng
    if name in ("ANY", "NE", "NP"):
        toks = b.entity_np(etype, case)
    elif name == "PER":
        toks = b.person()
    elif name == "LOC":
        toks = b.location(case)
    elif name == "ORG":
        toks = b.organisation(case)
    elif name == "OTH":
        toks = b.other(case)
    elif name == "CITY":
        toks = b.city()
    elif name == "TITLE":
        toks = b.title()
    elif name == "DATE":
        toks = b.date()
    elif name == "YEAR":
        toks = _o(str(r.randint(1950, 2014)))
    elif name == "NUM":
        toks = _o(b.number())
    elif name == "MONEY":
        toks = b.money()
    elif name == "PCT":
        pct = str(r.randint(1, 60)) if r.random() < 0.6 else f"{r.randint(0, 9)},{r.randint(1, 9)}"
        toks = _o(pct, "Prozent")
    elif name == "AGE":
        toks = _o(str(r.randint(18, 85)))
    elif name == "SCORE":
        toks = _o(f"{r.randint(0, 5)}:{r.randint(0, 5)}")
    elif name == "CLOCK":
        toks = _o(r.choice(("18", "19.30", "20", "11", "15.45")))
    elif name == "TIME":
        toks = _o(*r.choice(_TIMES))
    elif name == "MONTH":
        toks = _o(r.choice(_MONTHS))
    else:
        words = {
            "SAY": _SAY,
            "VT": _VT,
            "PP": _PP,
            "ADJ": _PRED_ADJS,
            "ROLE": _ROLES,
            "PLN": _PLURALS,
            "PRON": ("er", "sie"),
        }[name]
        toks = _o(r.choice(words))
    if prep:
        if toks and toks[0][1] == "O" and (prep, toks[0][0]) in _CONTRACT:
            toks = _o(_CONTRACT[(prep, toks[0][0])]) + toks[1:]
        else:
            toks = _o(prep) + toks
    return toks


def _draw_type(rng: random.Random, plain: float) -> str | None:
    if rng.random() < plain:
        return None
    return rng.choices(ENTITY_TYPES, weights=[_TYPE_WEIGHTS[t] for t in ENTITY_TYPES])[0]


def _sentence(b: _Builder, force: list[str], empty: bool) -> list[Tok]:
    r = b.rng
    if force:
        # a split of very few sentences forces several types into one; keep what fits
        force = force[: max(len(t.free) for t in _PARSED)]
        pool = [t for t in _PARSED if len(t.free) >= len(force)]
    elif empty:
        pool = list(_EMPTY_OK)
    else:
        pool = list(_PARSED)
    for _attempt in range(50):
        template = r.choice(pool)
        forced = dict(zip(r.sample(template.free, len(force)), force))
        toks: list[Tok] = []
        for i, item in enumerate(template.items):
            if isinstance(item, str):
                toks.append((item, "O", "O"))
                continue
            if i in forced:
                etype = forced[i]
            elif item[0] == "ANY":
                etype = None if empty else _draw_type(r, _ANY_PLAIN)
            elif item[0] == "NE":
                etype = _draw_type(r, 0.0)
            else:
                etype = None
            toks.extend(_fill_slot(b, item, etype))
        if MIN_TOKENS <= len(toks) <= MAX_TOKENS:
            break
    # Capitalise the first word, and the first word of a quotation opening the sentence.
    for i in (0, 1) if toks[0][0] == "„" else (0,):
        word, tag, nested = toks[i]
        if word[0].islower() and (tag == "O" or tag.endswith("deriv")):
            toks[i] = (word[0].upper() + word[1:], tag, nested)
    return toks


def _generate_split(inv: _Inventory, split: str, n: int, seed: int) -> list[Sentence]:
    rng = random.Random(f"nerhpo-demo:{seed}:{split}")
    b = _Builder(inv, rng, split)
    # Every type is forced into at least one sentence, so small splits still have all 12
    # (a split of one or two sentences has as many as the templates' slots hold).
    forced: dict[int, list[str]] = {}
    if n > 0:
        positions = rng.sample(range(n), min(n, len(ENTITY_TYPES)))
        for k, etype in enumerate(ENTITY_TYPES):
            forced.setdefault(positions[k % len(positions)], []).append(etype)
    sentences = []
    for i in range(n):
        force = forced.get(i, [])
        empty = not force and rng.random() < EMPTY_SHARE
        toks = _sentence(b, force, empty)
        sentences.append(
            Sentence(
                tokens=[t[0] for t in toks],
                tags=[t[1] for t in toks],
                nested=[t[2] for t in toks],
                comment=f"demo:{split}:{i + 1}",
            )
        )
    return sentences


def generate_corpus(train: int, dev: int, test: int, seed: int) -> dict[str, list[Sentence]]:
    """Generate the demo corpus: ``{"train": [...], "dev": [...], "test": [...]}``.

    Each split has exactly the requested number of sentences; the same arguments always give
    the same corpus. A split never depends on the sizes of the others. About a third of every
    name inventory is held out of ``train``, so dev and test contain unseen entities.
    """
    sizes = {"train": train, "dev": dev, "test": test}
    for split, n in sizes.items():
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"{split}: number of sentences must be an integer >= 0, got {n!r}")
    inv = _build_inventory(seed)
    return {split: _generate_split(inv, split, n, seed) for split, n in sizes.items()}
