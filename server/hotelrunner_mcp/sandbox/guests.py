"""Realistic, made-up guests (emails on example.* domains, phones in reserved-looking ranges)."""

from __future__ import annotations

import random
from dataclasses import dataclass

_PEOPLE: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], str]] = {
    # country: first names, last names, cities, phone prefix
    "FR": (
        ("Camille", "Julien", "Léa", "Antoine", "Chloé", "Mathieu"),
        ("Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard"),
        ("Paris", "Lyon", "Bordeaux", "Nantes"),
        "+33 6",
    ),
    "GB": (
        ("Oliver", "Emily", "Harry", "Charlotte", "James", "Sophie"),
        ("Smith", "Taylor", "Brown", "Wilson", "Evans", "Walker"),
        ("London", "Manchester", "Bristol", "Leeds"),
        "+44 7700",
    ),
    "DE": (
        ("Lukas", "Anna", "Jonas", "Lena", "Felix", "Marie"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner"),
        ("Berlin", "Hamburg", "München", "Köln"),
        "+49 151",
    ),
    "ES": (
        ("Lucía", "Hugo", "Martina", "Pablo", "Sofía"),
        ("García", "Fernández", "López", "Martínez", "Sánchez"),
        ("Madrid", "Barcelona", "Sevilla", "Valencia"),
        "+34 6",
    ),
    "IT": (
        ("Giulia", "Lorenzo", "Alessandro", "Francesca", "Matteo"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi"),
        ("Milano", "Roma", "Torino", "Firenze"),
        "+39 3",
    ),
    "US": (
        ("Emma", "Noah", "Olivia", "Liam", "Ava", "Ethan"),
        ("Johnson", "Williams", "Miller", "Davis", "Anderson"),
        ("New York", "Chicago", "Austin", "Seattle"),
        "+1 555",
    ),
    "NL": (
        ("Daan", "Sanne", "Lotte", "Bram", "Fleur"),
        ("de Jong", "Jansen", "de Vries", "van Dijk", "Bakker"),
        ("Amsterdam", "Utrecht", "Rotterdam"),
        "+31 6",
    ),
    "BE": (
        ("Louise", "Arthur", "Elise", "Victor"),
        ("Peeters", "Janssens", "Maes", "Claes"),
        ("Bruxelles", "Gent", "Antwerpen"),
        "+32 47",
    ),
    "MA": (
        ("Yasmine", "Omar", "Salma", "Youssef", "Imane", "Karim"),
        ("El Amrani", "Benali", "Alaoui", "Tazi", "Bennani"),
        ("Casablanca", "Rabat", "Fès", "Tanger"),
        "+212 6",
    ),
    "CH": (
        ("Noah", "Mia", "Luca", "Lea"),
        ("Meier", "Keller", "Huber", "Brunner"),
        ("Zürich", "Genève", "Basel"),
        "+41 79",
    ),
}
COUNTRY_NAMES = {
    "FR": "France",
    "GB": "United Kingdom",
    "DE": "Germany",
    "ES": "Spain",
    "IT": "Italy",
    "US": "United States",
    "NL": "Netherlands",
    "BE": "Belgium",
    "MA": "Morocco",
    "CH": "Switzerland",
}
_WEIGHTS = {"FR": 26, "GB": 16, "DE": 10, "ES": 9, "IT": 8, "US": 9, "NL": 6, "BE": 5, "MA": 7, "CH": 4}
_STREETS = (
    "Rue de la Paix",
    "High Street",
    "Hauptstraße",
    "Calle Mayor",
    "Via Roma",
    "Main Street",
    "Kerkstraat",
    "Avenue Mohammed V",
)


@dataclass(frozen=True)
class Guest:
    firstname: str
    lastname: str
    email: str
    phone: str
    country: str
    city: str
    street: str


def _ascii(text: str) -> str:
    table = str.maketrans("éèëíóúüöäñçà ", "eeeiouuoanca.")
    return text.lower().translate(table).replace("'", "")


def random_guest(rng: random.Random) -> Guest:
    country = rng.choices(list(_WEIGHTS), weights=list(_WEIGHTS.values()))[0]
    firsts, lasts, cities, prefix = _PEOPLE[country]
    first, last = rng.choice(firsts), rng.choice(lasts)
    email = f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 99)}@example.{rng.choice(('com', 'org', 'net'))}"
    phone = f"{prefix} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    street = f"{rng.randint(1, 180)} {rng.choice(_STREETS)}"
    return Guest(first, last, email, phone, country, rng.choice(cities), street)
