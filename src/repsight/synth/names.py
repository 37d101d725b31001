"""Word pools for synthetic people and companies (invented; any likeness is chance)."""

from __future__ import annotations

# fmt: off
FIRST_NAMES = (
    "Ana", "Ben", "Chloe", "Dario", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Keiko",
    "Liam", "Maya", "Nils", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wen",
    "Ximena", "Yusuf", "Zoe", "Amara", "Bruno", "Carmen", "Dmitri", "Esra", "Felix", "Gita", "Hana",
    "Ivan", "Jade", "Kofi", "Lena", "Mateo", "Nadia", "Oscar", "Priya", "Rafael", "Sofia", "Theo",
    "Uma", "Viktor", "Wanda", "Yara", "Zane", "Aiko", "Bea", "Cyrus", "Dana", "Emil", "Fatima",
    "Goran", "Helga", "Idris", "Julia", "Kai", "Luca", "Mira", "Noor", "Omar", "Petra", "Rhea",
    "Stefan",
)

LAST_NAMES = (
    "Brandt", "Okafor", "Silva", "Novak", "Tanaka", "Haddad", "Lindqvist", "Moreau", "Kowalski",
    "Rossi", "Nakamura", "Fischer", "Osei", "Petrov", "Garcia", "Jensen", "Mehta", "Duarte",
    "Schultz", "Ibrahim", "Larsen", "Costa", "Weber", "Ahmed", "Kim", "Dubois", "Horvat", "Santos",
    "Bauer", "Yilmaz", "Quist", "Varga", "Moreno", "Holm", "Rahman", "Sato", "Keller", "Barros",
    "Nyberg", "Pereira", "Ali", "Berg", "Chen", "Diaz", "Engel", "Ferreira", "Gupta", "Hansen",
    "Ito", "Jovanovic", "Kaur", "Lopez", "Meyer", "Nguyen", "Olsen", "Park", "Reyes", "Singh",
    "Torres", "Ueda", "Vogel", "Wagner", "Young", "Zimmer",
)

COMPANY_WORDS = (
    "Northwind", "Bluefin", "Cobalt", "Summit", "Harbor", "Juniper", "Granite", "Meridian",
    "Aurora", "Cedar", "Falcon", "Lumen", "Orchid", "Pioneer", "Quarry", "Redwood", "Sterling",
    "Tidewater", "Vantage", "Willow", "Alder", "Beacon", "Canyon", "Delta", "Ember", "Fjord",
    "Glacier", "Horizon", "Iris", "Jasper", "Keystone", "Lark", "Maple", "Nimbus", "Onyx",
    "Prairie", "Quill", "Ridge", "Sable", "Topaz", "Upland", "Vista", "Wren", "Yonder", "Zephyr",
    "Atlas", "Birch", "Coral", "Dune", "Echo",
)

COMPANY_KINDS = (
    "Logistics", "Health", "Foods", "Energy", "Media", "Bank", "Retail", "Labs", "Motors",
    "Textiles", "Pharma", "Insurance", "Telecom", "Robotics", "Foundry", "Airlines", "Hotels",
    "Chemicals", "Farms", "Analytics",
)

PARTNER_KINDS = (
    "Consulting", "Integrators", "Partners", "Solutions", "Advisory", "Systems",
)

VENDOR_KINDS = (
    "Travel", "Print", "Catering", "Payroll", "Facilities", "Hardware",
)

PERSONAL_DOMAINS = (
    "gmail.com", "yahoo.com", "outlook.com", "hotmail.com",
)

# fmt: on
