"""What the export-control rules are, as data with dates and sources.

Country names and groups, the advanced-computing control parameters, licence
policies and exceptions, the status of rules (in force, suspended, not enforced)
and the words the Federal Register uses for each control subject change with the
rules, so they live in `data/*.yaml`, each fact with the date it took effect and
where it was read. The modules here load and validate those files and answer
dated questions ("is AE in D:4 on 2024-05-01?"); they know nothing of portfolios,
stores or alerts.
"""

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
