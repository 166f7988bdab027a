"""Topic hint: warns when free text speaks of a data category its item is not tagged with.

Every piece of case content that can reach a partner carries data categories, and a
partner sees it only if its consent covers all of them (DESIGN.md section 4). A text
tagged "work" that mentions "Mietschulden" would show debt to an agency whose consent
does not cover debt. :func:`missing_categories` finds such categories so that the form
can ask ("Kategorie „Schulden“ ergänzen?") before the item is saved.

Like the anonymisation guard (``app/pii.py``) this is a heuristic measured on a corpus
(``python -m app.topics --evaluate tests/topic_corpus``). It errs towards asking, since a
missed topic leaks, but it must stay quiet on the everyday language of a case conference
(appointments, agencies, Jobcenter procedures, amounts), or people learn to click it away.

How words are recognised:

* The text is split into words (letters and digits; a hyphen splits, so "Reha-Maßnahme"
  is "Reha" and "Maßnahme"). Each word is lower-cased and transliterated (ä→ae, ö→oe,
  ü→ue, ß→ss) so that "Glaeubiger" and "Strasse" match like "Gläubiger" and "Straße".
* Lexicon entries (``_LEXICON``) say where a stem may stand in a word: ``wort`` the whole
  word, ``wort*`` at its start (inflections and compounds it heads: "Schulden",
  "Schuldenberatung"), ``*wort`` at its end (compounds it ends: "Mietschulden"),
  ``*wort*`` anywhere. A capital first letter means the word must be capitalised in the
  text: the noun "Sucht" is addiction, the verb "sucht" (sucht Arbeit) is not.
* Entries starting with ``!`` are look-alikes that are no topic ("!*besucht*",
  "!krankenkasse*", "!arbeitsgruppe*"). In a word the longest entry starting leftmost
  wins, so a look-alike overrides the shorter stem it contains, and a more specific
  entry can move a compound to another category ("pflegefachkraft*" is work, although
  "pflege*" is family). A word can speak of several categories ("Mietschulden": debt
  and housing; "Kinderarzt": family and health).
* ``wort(e|en)`` lists inflectional endings of a whole word or stem: "Rücken(s)" is
  "Rücken" and "Rückens" (endings are spelled out rather than guessed, since "Kur" + "s"
  is "Kurs" and "Ehe" + "r" is "eher").
* Entries with spaces are expressions over consecutive words, separated only by spaces
  or hyphens ("häusliche gewalt", "stelle als", "p konto"); each word matches exactly or,
  with a trailing ``*``, as a prefix. The words an expression covers are not looked at
  one by one, which is how look-alike expressions work ("!agentur für arbeit",
  "!einfacher sprache").

Linear time: the words come from one regex pass; each word is scanned once by one
compiled alternation made only of literal characters and anchors, built as a trie, so
the work at any position is bounded by the longest entry; expressions look ahead at most
``_MAX_PHRASE`` words. ``tests/test_topics.py`` checks both by structure and by counting.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import lazy_gettext as _l

from app.cases.models import DATA_CATEGORIES

# "general" is the catch-all: every item may speak of the general situation.
CATEGORIES: tuple[str, ...] = tuple(code for code in DATA_CATEGORIES if code != "general")

# --------------------------------------------------------------------------------------
# Lexicon. Entries are separated by commas or line breaks; "#" starts a comment.

_LEXICON: dict[str, str] = {
    "work": """
        bewerb*, *bewerbung*, bewirbt, beworben, bewarb*
        *ausbildung*, auszubildend*, azubi*, ausgebildet, lehrjahr*, *lehrstelle*, ausgebildete(n|r)
        umschulung*, *umschulung*, umschulen, umschult, umgeschult
        weiterbild*, *weiterbildung*, weitergebildet, fortbild*, *fortbildung*
        qualifizier*, *qualifizierung*, *qualifikation*, *einstiegsqualifizierung*
        praktik*, *praktikum*, *praktika
        *job*
        !*jobcenter*
        # "arbeit" heads the words of paid work (arbeitet, Arbeitsplatz, arbeitslos), but
        # also the working vocabulary of a case conference itself.
        arbeit*, gearbeitet, *arbeitsplatz*, *arbeitsstelle*, *arbeitsvertrag*, *arbeitsverhältnis*
        *arbeitgeber*, *arbeitnehmer*, *arbeitslos*, *arbeitssuch*, *arbeitsuch*, *arbeitsaufnahme*
        *schichtarbeit*, *zeitarbeit*, *leiharbeit*, *schwarzarbeit*, *saisonarbeit*, *erwerbsarbeit*
        # Staff are "Mitarbeiterin", a job can be "Lagermitarbeiter".
        *arbeiter*, !mitarbeiter*, !*sozialarbeiter*, !*bearbeiter*
        !arbeitsgruppe*, !arbeitskreis*, !arbeitsweise*, !arbeitsauftrag*, !arbeitsaufträge*
        !arbeitsvermittl*, !arbeitsagentur*, !arbeitstreffen*, !arbeitshilfe*, !arbeitsteilung*
        !arbeitsschritt*, !arbeitsstand, !arbeitsbündnis*, !arbeitsbeziehung*, !arbeitsgemeinschaft*
        !arbeitsmaterial*, !arbeitssitzung*, !arbeitsablauf*, !arbeitsabläufe*, !arbeitspapier*
        !arbeitsgrundlage*, !arbeitsfassung*, !arbeitsentwurf*
        !agentur für arbeit, !bundesagentur für arbeit
        Beschäftigung(en), *beschäftigung*, beschäftigt, beschäftigte*
        !beschäftigt sich, !beschäftigen sich, !beschäftigte sich
        *erwerbstätig*, berufstätig*, *erwerbslos*, *tätigkeit*
        *beruf*, !*berufung*, !berufen, !berufene*, !einberuf*, !beruft
        *stellenangebot*, stellenanzeige*, stellensuche, stellenbörse*, stellenausschreibung*
        stellenportal*, *zeitstelle*, *ausbildungsstelle*, *praktikumsstelle*
        stelle als, stellen als, neue stelle, feste stelle, freie stelle*, offene stelle*
        einstellungstest*, einstellungsgespräch*, einstellungszusage*, zeitvertrag*, *zeitvertrag*
        vermittlungsgutschein*, gewerbe*, Selbstständigkeit, Selbständigkeit
        selbstständig machen, selbständig machen, selbstständig gemacht, selbständig gemacht
        *teilzeit*, *vollzeit*, schicht*, *schicht
        probezeit*, probearbeit*, *probearbeit*, *einarbeitung*
        lebenslauf*, *lebenslauf*, vorstellungsgespräch*, *vorstellungsgespräch*, vorstellungstermin*
        *zeugnis*, *schulabschluss*, abitur*, fachabitur*, *hochschulreife*, *studium*, studiert
        *führerschein*, fahrerlaubnis*, *stapler*
        aushilf*, *aushilfe*, *hilfskraft*, reinigungskraft*, angestellt*
        lohn*, *lohn, !lohnt, !lohnen, !lohnend*, !lohnenswert*, Gehalt(s|es), Gehalts*
        eingliederungszuschuss*, bildungsgutschein*, vermittlungsvorschl*, *vermittlungsvorschl*
        Betrieb(s|es|e|en), *betrieb, betrieblich*, Firma, Firmen, *firma
        pflegefachkraft*, pflegehelfer*, pflegehilfskraft*, pflegeassistent*, pflegekraft*
        pflegeberuf*, pflegeausbildung*, altenpfleg*, krankenschwester*, krankenpfleger*
        eigenbemühung*, *eigenbemühung*, gelernte, gelernter, gelernten
        ohne abschluss, keinen abschluss, keinem abschluss
        # Job titles, by the endings German job titles are built with ("Erfahrung als
        # Hauswirtschafterin"); endings that also name agency staff are left out (Fachkraft,
        # Sachbearbeiterin, Sozialarbeiter).
        # "-fachkraft" also names agency and Jobcenter staff (Integrationsfachkraft); the jobs
        # among them are listed above (Pflegefachkraft).
        *kraft, !kraft, !fachkraft, !*fachkraft, !*lehrkraft*, !kaufkraft
        !*willenskraft, !*überzeugungskraft, !*wirtschaftskraft
        *helfer, *helferin, *helferinnen, !helfer, !helferin, !helferinnen, !*bewährungshelfer*
        *helferstelle*, *kauffrau*, *kaufmann*, *kaufleute*, *verkäufer*, *wirtschafter*
        *fahrer, *fahrerin, *fahrerinnen, *mechaniker*, *mechatroniker*, *techniker*, *elektriker*
        *monteur*, *installateur*, *tischler*, *schreiner*, *lackierer*, *friseur*, *kassierer*
        *lagerist*, *logistiker*, *zusteller*, *kellner*, *hausmeister*, *erzieherin*, *erzieher
    """,
    "health": """
        *krank*, !krankenkasse*, !*krankenkasse*, !krankenversicher*, !*krankenversicher*
        *gesund*
        *arzt*, *ärzt*
        *therap*, *diagnos*, *reha*, *klinik*, *ambulan*, stationär*
        *psych*, *depress*, *trauma*, traumatis*, ptbs
        *angststörung*, angstzust*, *panik*, *phobi*
        *schlafstörung*, *essstörung*, *persönlichkeitsstörung*, *belastungsstörung*
        *schmerz*
        *beschwerden, !beschwerden
        *leiden, !leiden
        *attest*
        medikament*, *medikament*, medikation*, *medizin*, tablette*
        operation*, *operation, operiert, OP(s), !kooperation*, !*kooperation*
        *behinder*, gdb
        *unfall*, rollstuhl*, *rollstuhl*, rollator*, gehhilfe*
        *erwerbsminder*, *erwerbsunfähig*, *erwerbsfähigkeit*, *berufsunfähig*, *arbeitsunfähig*
        *arbeitsfähig*, *dienstunfähig*, AU
        belastbar*, *belastbarkeit*, *belastungserprob*
        *gutacht*
        schwanger*, *schwanger*, entbindung*
        körperlich*, chronisch*
        Herz(ens), Herzen, herzinfarkt*, herzprobl*, herzschwäche*, *herzfehler*, !am herzen
        diabet*, *diabet*, asthma*, epilep*, migräne*, rheuma*, *rheuma*, arthrose*
        demenz*, *demenz*, Krebs(es), tumor*, chemo*, *bandscheibe*, allergi*, *allergie*
        adipositas, übergewicht*, untergewicht*, bluthochdruck*, *blutdruck*, schlaganfall*
        hepatitis, hiv, burnout*, burn out, covid*, long covid, post covid, MRT, blutverdünn*
        erschöpf*, *erschöpfung*, antriebslos*, *antriebslosigkeit*
        Behandlung(en), *behandlung, behandelnd*, !*gleichbehandlung*, !sonderbehandlung
        verletzt*, *verletzung*, !*pflichtverletzung*
        hörminder*, hörgerät*, *hörgerät*, schwerhörig*, gehörlos*, blind(e|en|er|es), erblindet(e|en|er)
        Kur(en), neurolog*, orthopäd*, notaufnahme*, *notaufnahme*
        # Body parts, named when they hurt ("Probleme mit der Schulter").
        schulter*, Rücken(s), Knie(n), hüfte*, gelenk, gelenke*, *gelenk, *gelenke, *gelenken
        wirbelsäule*, *wirbelsäule*, Nacken(s)
        gesetzliche betreuung, rechtliche betreuung, gesetzlicher betreuer, gesetzliche betreuerin
        rechtlicher betreuer, rechtliche betreuerin, betreuungsgericht*, *berufsbetreuer*
        gelbsucht*, *magersucht*, *magersüchtig*, *fettsucht*, *fettsüchtig*
    """,
    "addiction": """
        # The noun "Sucht" and its compounds, not the verb "sucht" and what contains it
        # (besucht, versucht, gesucht, untersucht).
        Sucht, Süchte(n), sucht*, *sucht*, *süchtig*, !sucht, !suchten
        !*besucht*, !*versucht*, !ersucht*, !*untersucht*, !*gesucht*
        !sehnsucht*, !*sehnsucht*, !*sehnsüchtig*, !*eifersucht*, !*eifersüchtig*
        alkohol*, *alkohol*, drogen*, *drogen*
        # "abhängig von" is not addiction; Alkoholabhängigkeit and the noun alone are.
        *abhängig*, !abhängig, !abhängige, !abhängigen, !abhängiger, !abhängiges, !abhängigem
        !unabhängig*, !*unabhängig*, !in abhängigkeit
        entzug*, entgift*, *entgiftung*, entwöhn*, *entwöhnung*
        substitu*, *substitution*, methadon*, *methadon*, polamidon*, subutex, buprenorphin*
        abstinen*, *abstinenz*, rückfall*, rückfällig*
        cannabis*, *cannabis*, kiff*, heroin*, *heroin*, kokain*, *kokain*, amphetamin*, *amphetamin*
        opiat*, opioid*, benzodiazepin*, ecstasy, crack, haschisch, marihuana, LSD, crystal*, joint(s)
        kreuzbund*, blaues kreuz, blauen kreuz, guttempler*
        trink*, !trinkgeld*, !trinkwasser*, !trinkflasche*, getrunken, betrunken(e|en|er), *trunkenheit*, *trinker*
        trocken*, !trockenbau*
        clean
        urinkontroll*, *urinkontroll*, beikonsum*, *beikonsum*
        # "Konsum" alone is, in a case conference, the use of a substance.
        Konsum(s), konsumiert, konsumieren, konsumverhalten*
        glücksspiel*, *glücksspiel*, poker*, *poker*, casino*, *casino*, spielautomat*, *spielautomat*
        spielhalle*, sportwette*, wettbüro*
    """,
    "debt": """
        *schulden*, !Verschulden, *schuldner*, *schuldet*, *schuldung*, restschuld*, *restschuld*
        umschuldung*
        *gläubiger*
        *pfänd*, p konto, pkonto
        *insolvenz*, *inkasso*
        *stromsperre*, *gassperre*, *energiesperre*, *wassersperre*, *versorgungssperre*
        stromabschaltung*, gasabschaltung*, sperrandrohung*, *sperrandrohung*, sperrankündigung*
        forderung*, *rückforderung*, *erstattungsforderung*
        # "raten" is also the verb (wir raten dazu).
        Rate, Raten, raten*, !raten, *ratenzahlung*, *ratenvereinbarung*, *monatsrate*, *kreditrate*
        *kredit*, !akkredit*, !*akkredit*
        darlehen*, *darlehen*
        mahnung*, *mahnung*, !*ermahnung*, mahnbescheid*, *mahnbescheid*, mahnverfahren*, *mahnverfahren*
        mahnschreiben*, *mahngebühr*, gemahnt, angemahnt, *zahlungserinnerung*
        gerichtsvollzieher*, *vollstreck*, vermögensauskunft*
        schufa*, *schufa*, Dispo(s), im minus, unbezahlt*
        *rückstand*, *rückständ*, !*bearbeitungsrückst*
        zahlungsverzug*, *zahlungsverzug*, mietverzug*
        *zahlungsunfähig*, *zahlungsschwierigkeit*
        *bußgeld*, aufrechnung*, *aufrechnung*, aufgerechnet, *überzahlung*, stundung*, *verbindlichkeit*
        offene rechnung*, offenen rechnung*, offener rechnung*, offene beträge, offenen beträge, offener betrag
        # What is owed and not paid, whatever it is ("Rundfunkbeiträge nicht bezahlt").
        nicht bezahl*, nicht mehr bezahl*, nicht begleich*, nicht beglichen, nicht mehr begleich*
        # Not "nicht gezahlt": that is mostly the Jobcenter not paying a benefit.
        nicht zurückzahl*, nicht zurückgezahlt, nicht abbezahl*
        finanzielle probleme, finanziellen problemen, finanzielle schwierigkeiten, finanziellen schwierigkeiten
        geldsorgen, *geldprobleme*
    """,
    "housing": """
        *wohnung*, *wohngeld*, *wohnheim*, wohnsitz*, wohnsituation*, *wohnraum*, *wohngemeinschaft*
        wohnen(s), wohnt, wohnte, wohnten, *bewohn*, wohnhaft*, wohnort*, *wohnverhältnis*, wohnform*
        wohnprojekt*, wohnberechtigung*, WBS
        umzug*, *umzug*, umzieh*, umgezogen, zieht um, auszieh*, ausgezogen, Einzug(s|es)
        *miet*, !raummiete*, !*raummiete*, !*mietwagen*
        *räumung*, !einräumung*, !*einräumung*
        *obdach*, *unterkunft*, unterbringung*, *unterbringung*, untergebracht, untergekommen, KdU
        *nebenkost*, *heizkost*, *betriebskost*, heizung*
        *frauenhaus*
        auf der straße, schläft im, schlafen im, übernacht*, campier*, Bleibe
        Nachbar(n|in|innen|schaft)
        kaution*, *kaution*, erstausstattung*, renovier*, *renovierung*, *schimmel*
    """,
    "family": """
        *kind*, *kita*, *krippe*, hort*
        tagesmutter*, *tagesmutter*, tagesvater(s), tagespflege*, *tagespflege*
        # The verb also means keeping data up to date (Konten pflegen); a relative cared
        # for is named anyway (pflegt seine Mutter).
        pflege*, !pflegen, !pflegt, !pflegte, !pflegten, pflegend*
        kurzzeitpflege*, verhinderungspflege*, *pflegegrad*, *pflegebedürft*
        *angehörigenpflege*, angehörig*, *familienangehörig*
        *mutter*, *mütter*, *vater*, *väter*, *eltern*
        *sohn*, *söhne*, *tochter*, *töchter*, !*tochtergesellschaft*
        *bruder*, *brüder*, *schwester*, geschwister*, *geschwister*, enkel*
        oma(s), opa(s), Onkel(s|n), Tante(n), Neffe(n), Nichte(n), cousin*, schwieger*, zwilling*
        Ehe(n), ehemann*, ehemänner, ehefrau*, ehepartner*, *ehepartner*, ehepaar*, eheleute(n), ehelich*
        verheiratet(e|en|er), geschieden(e|en|er), scheidung*, *ehescheidung*, trennung*
        getrennt lebend, lebt getrennt, leben getrennt, getrenntlebend*
        verwitwet(e|en|er), witwe*, witwer*, ledig(e|en|er)
        alleinerziehend*, *alleinerziehend*
        *jugendamt*, *jugendhilfe*, *erziehung*, familienhelfer*, *familienhelfer*
        famili*, *famili*, familiennachzug*, *familiennachzug*, ganztagsschul*, ganztagsbetreuung*
        *unterhalt*, !lebensunterhalt*, !*lebensunterhalt*, !unterhalten, !unterhaltung*, !*unterhaltung*
        !unterhaltsam*
        sorgerecht*, *sorgerecht*, umgangsrecht*, *umgangsrecht*, umgangskontakt*
        beistandschaft*, vormund*, *vormundschaft*
        schwanger*, *schwanger*, Geburt(en), geburtstermin*, betreuungsplatz*
        häusliche gewalt, häuslicher gewalt, gewaltschutz*, *partnerschaftsgewalt*
        Beziehung(en), lebensgefährt*, lebenspartner*, *lebenspartner*, eingetragene partnerschaft
        ihr partner, ihrem partner, ihren partner, ihres partners, sein partner, seinem partner
        seine partnerin, seiner partnerin, ihre partnerin, ihrer partnerin, ex partner*, expartner*
        partner der kundin, partner des kunden, partnerin der kundin, partnerin des kunden
        gemeinsamen haushalt*, gemeinsamer haushalt*
        volljährig*, minderjährig*, *grundschul*
        paarberatung*, paartherapie*, baby*, säugling*
    """,
    "residence": """
        aufenthalts*, *aufenthaltsrecht*, *aufenthaltserlaubnis*, *aufenthaltstitel*, *aufenthaltsgestattung*
        !aufenthaltsraum*, !aufenthaltsort*
        wohnsitzauflage*, familiennachzug*, *familiennachzug*
        *duldung*, geduldet(e|en|er), gestattung*, *gestattung*, fiktionsbescheinigung*, niederlassungserlaubnis*
        *erlaubnis, !erlaubnis
        *ausländ*, ausland*
        *asyl*
        *flüchtling*, geflüchtet*, geflohen, flucht*
        *schutzberechtigt*, subsidiär*, *schutzstatus*
        *abschieb*, abgeschoben(e|en|er), einbürger*, eingebürgert, ausreisepflicht*, *ausreisepflicht*
        einreise*, eingereist
        Pass(es), *reisepass*, passersatz*, passbeschaffung*, Botschaft(en), *konsulat*
        bamf, dtz, *zuwander*, *migration*
        *integrationskurs*, *orientierungskurs*, *sprachkurs*, deutschkurs*, *deutschkurs*
        *alphabetisier*, analphabet*, *analphabet*
        # "sprach" is also the past of "sprechen"; "Absprache" and "Rücksprache" are no
        # language topic, hence no "*sprach*".
        sprach*, !sprach, !sprachen, Sprachen
        !einfache sprache, !einfacher sprache, !leichte sprache, !leichter sprache
        muttersprach*, *fremdsprach*, zweitsprach*, *sprachkenntnis*, *sprachförder*, *sprachbarriere*
        *sprachniveau*, *sprachzertifikat*
        deutsch*, !deutsche, !deutschen, !deutscher, !deutsches, !deutschem
        !deutschlandticket*, !deutschlandweit*
        A1, A2, B1, B2, C1, C2
        dolmetsch*, *dolmetsch*, übersetzer*, *übersetzer*
        herkunftsland*, *herkunftsland*, heimatland*, herkunft*
        staatsangehörig*, *staatsangehörig*, staatsbürger*, *staatsbürger*, unionsbürger*
        freizügigkeit*, *freizügigkeit*, eu bürger*
        visum, visa, bleiberecht*, *bleiberecht*, blaue karte, blauen karte
        # Languages named as what someone speaks ("spricht fließend Arabisch").
        arabisch, türkisch, russisch, ukrainisch, polnisch, rumänisch, bulgarisch, kurdisch, persisch
        farsi, dari, paschtu, tigrinya, somali, albanisch, serbisch, kroatisch, bosnisch, englisch
        französisch, spanisch, italienisch, portugiesisch, griechisch, vietnamesisch, *sprachig*
    """,
}

# Expressions are looked for at most this many words ahead.
_MAX_PHRASE = 4

# --------------------------------------------------------------------------------------
# Compiling the lexicon

_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_WORD = re.compile(r"[^\W_]+")
# What may stand between the words of an expression.
_GAP = re.compile(r"[\s\-‐–]+")

WHOLE, PREFIX, SUFFIX, INFIX = "whole", "prefix", "suffix", "infix"
# When one literal is listed in several positions, the most specific that fits the
# word decides: a capitalised whole word before a whole word before a prefix, and so on.
_SPECIFICITY = {
    (WHOLE, True): 0,
    (WHOLE, False): 1,
    (PREFIX, True): 2,
    (PREFIX, False): 3,
    (SUFFIX, False): 4,
    (INFIX, False): 5,
}


def _normalise(word: str) -> str:
    return word.lower().translate(_TRANSLITERATION)


@dataclass
class _Entry:
    """One way a literal can stand in a word, and the categories it then speaks of."""

    position: str
    capitalised: bool
    categories: set[str | None] = field(default_factory=set)
    # The categories in CATEGORIES order without the look-alike marker, set by _compile.
    topics: tuple[str, ...] = ()

    def fits(self, start: int, end: int, length: int, capitalised: bool) -> bool:
        if self.capitalised and not capitalised:
            return False
        if self.position in (WHOLE, PREFIX) and start != 0:
            return False
        return not (self.position in (WHOLE, SUFFIX) and end != length)


@dataclass
class _Phrase:
    # (literal, is_prefix) per word after the first.
    rest: tuple[tuple[str, bool], ...]
    categories: set[str | None]
    topics: tuple[str, ...] = ()


def _entries(spec: str) -> Iterator[str]:
    for line in spec.splitlines():
        line = line.split("#", 1)[0]
        for entry in line.split(","):
            entry = " ".join(entry.split())
            if entry:
                yield entry


class LexiconError(ValueError):
    pass


_ENDINGS = re.compile(r"(?P<base>[^()]+)\((?P<endings>[^()]+)\)(?P<star>\*?)")


def _expand(raw: str) -> list[str]:
    """ "Rücken(s)" -> ["Rücken", "Rückens"]; anything else unchanged."""
    m = _ENDINGS.fullmatch(raw)
    if m is None:
        return [raw]
    return [m["base"] + ending + m["star"] for ending in ["", *m["endings"].split("|")]]


def _parse_word(raw: str) -> tuple[str, str, bool]:
    """(literal, position, capitalised) of one lexicon word such as "*schulden*"."""
    starts, ends = raw.startswith("*"), raw.endswith("*")
    core = raw.strip("*")
    if not core or "*" in core or not _WORD.fullmatch(core):
        raise LexiconError(f"not a lexicon word: {raw!r}")
    position = {(False, False): WHOLE, (False, True): PREFIX, (True, False): SUFFIX, (True, True): INFIX}[
        (starts, ends)
    ]
    capitalised = core[0].isupper()
    if capitalised and position in (SUFFIX, INFIX):
        raise LexiconError(f"capitalisation only counts at the start of a word: {raw!r}")
    return _normalise(core), position, capitalised


@dataclass
class _Lexicon:
    words: dict[str, list[_Entry]]
    phrases: dict[str, list[_Phrase]]
    pattern: re.Pattern[str]


def _compile(lexicon: dict[str, str]) -> _Lexicon:
    words: dict[str, dict[tuple[str, bool], _Entry]] = {}
    phrases: dict[tuple[str, ...], _Phrase] = {}
    for category, spec in lexicon.items():
        if category not in CATEGORIES:
            raise LexiconError(f"unknown category {category!r}")
        for raw in _entries(spec):
            target = None if raw.startswith("!") else category
            raw = raw.lstrip("!")
            if " " in raw:
                parts = raw.split(" ")
                if len(parts) > _MAX_PHRASE or parts[0].endswith("*") or any(p.startswith("*") for p in parts):
                    raise LexiconError(f"an expression has up to {_MAX_PHRASE} words, the first one exact: {raw!r}")
                if not all(_WORD.fullmatch(p.rstrip("*")) for p in parts):
                    raise LexiconError(f"not a lexicon expression: {raw!r}")
                key = tuple(_normalise(p) for p in parts)
                phrase = phrases.setdefault(
                    key, _Phrase(tuple((p.rstrip("*"), p.endswith("*")) for p in key[1:]), set())
                )
                phrase.categories.add(target)
            else:
                for variant in _expand(raw):
                    literal, position, capitalised = _parse_word(variant)
                    entry = words.setdefault(literal, {}).setdefault(
                        (position, capitalised), _Entry(position, capitalised)
                    )
                    entry.categories.add(target)
    # A look-alike that is also a topic word would make the result depend on the order
    # of the lexicon; refuse it.
    for literal, by_position in words.items():
        for entry in by_position.values():
            if None in entry.categories and len(entry.categories) > 1:
                raise LexiconError(f"{literal!r} is both a topic and a look-alike")
    for key, phrase in phrases.items():
        if None in phrase.categories and len(phrase.categories) > 1:
            raise LexiconError(f"{' '.join(key)!r} is both a topic and a look-alike")

    items: list[_Phrase | _Entry] = [
        *phrases.values(),
        *(e for by_position in words.values() for e in by_position.values()),
    ]
    for item in items:
        item.topics = tuple(c for c in CATEGORIES if c in item.categories)

    by_first: dict[str, list[_Phrase]] = {}
    for key, phrase in sorted(phrases.items(), key=lambda kv: -len(kv[0])):
        by_first.setdefault(key[0], []).append(phrase)
    return _Lexicon(
        words={
            literal: sorted(by_position.values(), key=lambda e: _SPECIFICITY[e.position, e.capitalised])
            for literal, by_position in words.items()
        },
        phrases=by_first,
        pattern=_trie_pattern(words),
    )


def _trie_pattern(words: dict[str, dict[tuple[str, bool], _Entry]]) -> re.Pattern[str]:
    """One regex for every literal, factored as a trie of plain characters.

    At the start of a word every literal may match (with the anchors its positions
    allow); further in, only those that may stand inside or at the end of a word. Within
    a trie the longer continuation is tried first, so the match at a position is the
    longest literal that fits there.
    """
    any_end, word_end = "", "\x00"  # markers in a trie node; never a letter of a word
    at_start: dict = {}
    inside: dict = {}
    for literal, by_position in words.items():
        positions = {position for position, _cap in by_position}
        for trie, allowed in ((at_start, positions), (inside, positions & {SUFFIX, INFIX})):
            if not allowed:
                continue
            node = trie
            for ch in literal:
                node = node.setdefault(ch, {})
            if allowed & {PREFIX, INFIX}:
                node[any_end] = True
            if allowed & {WHOLE, SUFFIX}:
                node[word_end] = True

    def alternation(node: dict) -> str:
        branches = [
            re.escape(ch) + alternation(child) for ch, child in sorted(node.items()) if ch not in (any_end, word_end)
        ]
        if any_end in node:
            branches.append("")
        elif word_end in node:
            branches.append(r"\Z")
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return re.compile(r"\A" + alternation(at_start) + "|" + alternation(inside))


_COMPILED = _compile(_LEXICON)

# --------------------------------------------------------------------------------------
# Finding topics


@dataclass(frozen=True)
class Finding:
    category: str
    start: int
    end: int
    word: str


def _word_categories(norm: str, capitalised: bool, lexicon: _Lexicon) -> tuple[str, ...]:
    """The categories a (normalised) word speaks of, in CATEGORIES order."""
    found: set[str] = set()
    length = len(norm)
    pos = 0
    while (m := lexicon.pattern.search(norm, pos)) is not None:
        start, end = m.span()
        for entry in lexicon.words[m.group()]:
            if entry.fits(start, end, length, capitalised):
                found.update(entry.topics)
                pos = end
                break
        else:
            # Only a capitalised-only entry can fail here ("Verschulden" written "verschulden");
            # look again one character further so the stems inside it still count. Each
            # retry costs a bounded match, so the scan stays linear.
            pos = start + 1
    if not found:
        return ()
    return tuple(c for c in CATEGORIES if c in found)


def _phrase_at(
    i: int, spans: list[tuple[int, int]], norms: list[str], text: str, lexicon: _Lexicon
) -> tuple[int, _Phrase] | None:
    """The longest expression starting at word i: (index of its last word, phrase)."""
    for phrase in lexicon.phrases.get(norms[i], ()):
        j = i
        for literal, is_prefix in phrase.rest:
            j += 1
            if j >= len(spans) or not _GAP.fullmatch(text, spans[j - 1][1], spans[j][0]):
                break
            if not (norms[j].startswith(literal) if is_prefix else norms[j] == literal):
                break
        else:
            return j, phrase
    return None


def find_topics(text: str | None) -> list[Finding]:
    """Where `text` speaks of a data category: one finding per category and word (or
    expression), in text order."""
    if not text:
        return []
    lexicon = _COMPILED
    spans: list[tuple[int, int]] = []
    norms: list[str] = []
    # Case texts repeat their words; each distinct word is normalised and scanned once.
    seen: dict[str, tuple[str, tuple[str, ...]]] = {}
    categories_of: list[tuple[str, ...]] = []
    for m in _WORD.finditer(text):
        raw = m.group()
        known = seen.get(raw)
        if known is None:
            norm = _normalise(raw)
            known = seen[raw] = (norm, _word_categories(norm, raw[0].isupper(), lexicon))
        spans.append((m.start(), m.end()))
        norms.append(known[0])
        categories_of.append(known[1])

    findings: list[Finding] = []
    i = 0
    while i < len(spans):
        hit = _phrase_at(i, spans, norms, text, lexicon) if norms[i] in lexicon.phrases else None
        if hit is not None:
            last, phrase = hit
            start, end = spans[i][0], spans[last][1]
            word = " ".join(text[start:end].split())
            findings.extend(Finding(c, start, end, word) for c in phrase.topics)
            i = last + 1
            continue
        if categories_of[i]:
            start, end = spans[i]
            word = text[start:end]
            for category in categories_of[i]:
                findings.append(Finding(category, start, end, word))
        i += 1
    return findings


def missing_categories(text: str | None, categories: Iterable[str]) -> list[str]:
    """Categories `text` speaks of that are not among `categories`, in DATA_CATEGORIES order."""
    tagged = set(categories)
    spoken = {f.category for f in find_topics(text)}
    return [code for code in DATA_CATEGORIES if code in spoken and code not in tagged]


# At most this many words are quoted per category; the rest is "…".
_WORDS_SHOWN = 3


def describe(text: str | None, missing: Iterable[str]) -> list[str]:
    """One message per missing category that names it and the words found for it.

    `missing` is what :func:`missing_categories` returned; a category the text does not
    speak of gets no message. The messages are built in the current locale.
    """
    missing = set(missing)
    words: dict[str, list[str]] = {}
    for finding in find_topics(text):
        if finding.category in missing:
            seen = words.setdefault(finding.category, [])
            if finding.word.lower() not in (w.lower() for w in seen):
                seen.append(finding.word)
    messages = []
    for code in DATA_CATEGORIES:
        if code not in words:
            continue
        quoted = [str(_l("„%(word)s“", word=w)) for w in words[code][:_WORDS_SHOWN]]
        if len(words[code]) > _WORDS_SHOWN:
            quoted.append("…")
        label = str(DATA_CATEGORIES[code])
        messages.append(
            str(
                _l(
                    "Der Text erwähnt vermutlich %(topic)s (%(words)s). Kategorie „%(category)s“ ergänzen?",
                    topic=label,
                    words=", ".join(quoted),
                    category=label,
                )
            )
        )
    return messages


# --------------------------------------------------------------------------------------
# Corpus evaluation (python -m app.topics --evaluate tests/topic_corpus)

PARTS = ("tuning", "heldout")


@dataclass
class PartResult:
    """Figures for one part of the corpus (tuning or held out)."""

    name: str
    sentences: dict[str, int]  # category -> number of sentences
    misses: dict[str, list[tuple[int, str]]]  # category -> (line, sentence) without it
    neutral: int
    false_alarms: list[tuple[int, str, list[Finding]]]

    def recall(self, category: str) -> float:
        total = self.sentences[category]
        return (total - len(self.misses[category])) / total if total else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return len(self.false_alarms) / self.neutral if self.neutral else 0.0


def _sentences(path: Path) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line


def evaluate_part(folder: Path | str) -> PartResult:
    """Recall per category (`<category>.txt`) and false alarms (`neutral.txt`) of a folder."""
    folder = Path(folder)
    sentences: dict[str, int] = {}
    misses: dict[str, list[tuple[int, str]]] = {}
    for category in CATEGORIES:
        lines = list(_sentences(folder / f"{category}.txt"))
        sentences[category] = len(lines)
        misses[category] = [(n, s) for n, s in lines if category not in {f.category for f in find_topics(s)}]
    neutral = list(_sentences(folder / "neutral.txt"))
    false_alarms = []
    for n, s in neutral:
        findings = find_topics(s)
        if findings:
            false_alarms.append((n, s, findings))
    return PartResult(folder.name, sentences, misses, len(neutral), false_alarms)


def evaluate(corpus: Path | str) -> dict[str, PartResult]:
    """Both parts of the corpus: ``tuning/`` and ``heldout/``."""
    corpus = Path(corpus)
    return {part: evaluate_part(corpus / part) for part in PARTS}


def _print_part(result: PartResult, folder: Path) -> None:
    print(f"\n{result.name} ({folder})")
    print(f"  {'category':<11} {'label':<28} {'sentences':>9} {'found':>6} {'recall':>8}")
    for category in CATEGORIES:
        total = result.sentences[category]
        found = total - len(result.misses[category])
        print(
            f"  {category:<11} {str(DATA_CATEGORIES[category]):<28} {total:>9} {found:>6} "
            f"{result.recall(category):>8.1%}"
        )
    print(
        f"  {'neutral':<11} {'(no sensitive topic)':<28} {result.neutral:>9} "
        f"{len(result.false_alarms):>6} {result.false_alarm_rate:>8.1%} false alarms"
    )


def _print_details(result: PartResult) -> None:
    for category in CATEGORIES:
        for number, sentence in result.misses[category]:
            print(f"  missed {result.name}/{category}.txt:{number}: {sentence}")
    for number, sentence, findings in result.false_alarms:
        hits = ", ".join(f"{f.category} {f.word!r}" for f in findings)
        print(f"  false alarm {result.name}/neutral.txt:{number}: {sentence}\n      -> {hits}")


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.topics", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--evaluate",
        metavar="CORPUS_DIR",
        help="folder with tuning/ and heldout/, each with <category>.txt and neutral.txt",
    )
    parser.add_argument("--min-recall", type=float, default=0.90)
    parser.add_argument("--max-false-alarms", type=float, default=0.05)
    parser.add_argument("text", nargs="*", help="text to check (when not evaluating)")
    args = parser.parse_args(argv)

    if not args.evaluate:
        text = " ".join(args.text) if args.text else sys.stdin.read()
        findings = find_topics(text)
        for f in findings:
            print(f"{f.category:10} {f.start:>5}-{f.end:<5} {f.word}")
        return 1 if findings else 0

    corpus = Path(args.evaluate)
    results = evaluate(corpus)
    for part, result in results.items():
        _print_part(result, corpus / part)
    print()
    for result in results.values():
        _print_details(result)
    ok = all(result.recall(c) >= args.min_recall for result in results.values() for c in CATEGORIES) and all(
        result.false_alarm_rate <= args.max_false_alarms for result in results.values()
    )
    print(
        "\nOK"
        if ok
        else f"\nFAILED (need recall >= {args.min_recall:.0%} per category "
        f"and false alarms <= {args.max_false_alarms:.0%}, in every part)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(_main())
