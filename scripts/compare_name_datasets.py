"""Compare name datasets from PyPI for the anonymisation guard (issue 12).

Run in a scratch venv that has the candidates installed:
    pip install gender-guesser names-dataset faker
    python scripts/compare_name_datasets.py
Prints, per origin, how many of a hand-picked sample of first names and surnames
each dataset knows, and each dataset's load time. The samples are ordinary names
of the people a Jobcenter in Offenbach serves, written as caseworkers write them.
"""

import time
import tracemalloc

SAMPLES = {
    "German": (
        "Lena Tim Jonas Sabine Uwe Jürgen Hannelore Finn Mia Karl",
        "Müller Schmidt Becker Wagner Hoffmann Schäfer Krause Lehmann Zimmermann Braun",
    ),
    "Turkish": (
        "Emine Ayşe Mehmet Yusuf Elif Zeynep Hüseyin Murat Fatma Kemal",
        "Doğan Yılmaz Kaya Öztürk Çelik Aydın Şahin Demir Arslan Koç",
    ),
    "Arabic": (
        "Tarek Mohammed Fatima Amira Khaled Youssef Rania Omar Samira Bilal",
        "Haddad Mahmoud Khalil Nasser Saleh Ibrahim Hassan Mansour Aziz Darwish",
    ),
    "Polish": (
        "Bogdan Katarzyna Małgorzata Piotr Agnieszka Krzysztof Wojciech Joanna Tomasz Ewa",
        "Lewandowski Nowak Kowalski Wiśniewska Wójcik Kamiński Zieliński Szymański Woźniak Dąbrowski",
    ),
    "Russian/Ukrainian": (
        "Oleksandr Olena Dmytro Sergej Natalia Tetiana Iryna Wladimir Swetlana Andrij",
        "Bondarenko Kovalenko Petrenko Ivanova Shevchenko Tkachenko Smirnow Kuznezow Melnyk Popowa",
    ),
    "Balkan": (
        "Dragan Milica Jelena Goran Emina Amir Zoran Ivana Nikola Selma",
        "Đorđević Jovanović Hodžić Petrović Kovačević Begić Horvat Marković Babić Nikolić",
    ),
    "Vietnamese": (
        "Lan Minh Huong Tuan Hoa Thanh Dung Linh Quang Trang",
        "Nguyen Tran Pham Le Hoang Phan Vu Dang Bui Do",
    ),
    "Eritrean/Somali": (
        "Tesfaye Yonas Semhar Abdirahman Hodan Fadumo Mebrahtu Senait Filmon Ayaan",
        "Ghebremedhin Abdullahi Warsame Tesfamariam Haile Mohamud Osman Berhane Kidane Farah",
    ),
}


def timed(load):
    tracemalloc.start()
    t0 = time.perf_counter()
    obj = load()
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return obj, seconds, peak / 2**20


def gender_guesser():
    import gender_guesser.detector as gd

    det, s, mb = timed(gd.Detector)
    return (lambda n: det.get_gender(n) != "unknown"), (lambda n: False), s, mb


def names_dataset():
    from names_dataset import NameDataset

    nd, s, mb = timed(NameDataset)

    def first(n):
        r = nd.search(n)["first_name"]
        return bool(r)

    def last(n):
        r = nd.search(n)["last_name"]
        return bool(r)

    return first, last, s, mb


def faker():
    def load():
        import importlib

        firsts, lasts = set(), set()
        for loc in (
            "de_DE",
            "tr_TR",
            "ar_AA",
            "ar_SA",
            "ar_EG",
            "pl_PL",
            "ru_RU",
            "uk_UA",
            "hr_HR",
            "sl_SI",
            "bs_BA",
            "vi_VN",
        ):
            try:
                mod = importlib.import_module(f"faker.providers.person.{loc}")
            except ImportError:
                continue
            p = mod.Provider
            for attr in ("first_names", "first_names_male", "first_names_female"):
                v = getattr(p, attr, None)
                if v:
                    firsts.update(v)
            for attr in ("last_names", "last_names_male", "last_names_female", "unisex_last_names"):
                v = getattr(p, attr, None)
                if v:
                    lasts.update(v)
        return firsts, lasts

    (firsts, lasts), s, mb = timed(load)
    return firsts.__contains__, lasts.__contains__, s, mb


for label, factory in (("gender-guesser", gender_guesser), ("names-dataset", names_dataset), ("Faker", faker)):
    first, last, s, mb = factory()
    print(f"== {label}: load {s:.2f} s, peak {mb:.0f} MiB (Python allocations)")
    total_f = total_l = 0
    for origin, (fs, ls) in SAMPLES.items():
        f = [n for n in fs.split() if first(n)]
        s = [n for n in ls.split() if last(n)]
        total_f += len(f)
        total_l += len(s)
        print(f"  {origin:18} first {len(f):2}/10  last {len(s):2}/10")
    print(f"  {'total':18} first {total_f}/80  last {total_l}/80")
