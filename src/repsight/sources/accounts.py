"""CRM accounts (CSV): which mail domains are customers, prospects, partners, vendors, and who owns each account.

The optional `owner_email` column is the CRM's account owner (a seller);
empty, the account has none. It need not be on the roster: an owner who is
not measured owns accounts nobody is measured on.
"""

from __future__ import annotations

from collections.abc import Iterator

from repsight.sources.csvfile import FieldError, parse_address, read_csv, shown
from repsight.sources.files import Source
from repsight.sources.records import Account, Rejected

__all__ = ["ACCOUNT_TYPES", "OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "read_accounts"]

ACCOUNT_TYPES = ("customer", "prospect", "partner", "vendor")
REQUIRED_COLUMNS = ("account_id", "name", "domains", "type")
OPTIONAL_COLUMNS = ("owner_email",)


def _domains(value: str) -> tuple[str, ...]:
    domains = tuple(d.strip().lower().lstrip("@") for d in value.split(";") if d.strip())
    if not domains:
        raise FieldError("domains", "is empty; an account needs at least one mail domain")
    for domain in domains:
        if "." not in domain or "@" in domain or any(c.isspace() for c in domain):
            raise FieldError("domains", f"{shown(domain)} is not a mail domain")
    return domains


def read_accounts(source: Source) -> Iterator[Account | Rejected]:
    """Yield each account row, or Rejected with the reason."""
    seen_ids: dict[str, str] = {}
    seen_domains: dict[str, str] = {}
    for row in read_csv(source.text, source.path, required=REQUIRED_COLUMNS):
        if row.problem is not None:
            yield Rejected(row.position, row.problem.field, row.problem.reason)
            continue
        fields = row.fields
        try:
            if not fields["account_id"]:
                raise FieldError("account_id", "is empty")
            if fields["account_id"] in seen_ids:
                raise FieldError("account_id", f"duplicate account: the same id is on {seen_ids[fields['account_id']]}")
            kind = fields["type"].lower()
            if kind not in ACCOUNT_TYPES:
                raise FieldError("type", f"{shown(fields['type'])} is not one of {', '.join(ACCOUNT_TYPES)}")
            domains = _domains(fields["domains"])
            for domain in domains:
                if domain in seen_domains:
                    raise FieldError("domains", f"{domain} already belongs to the account on {seen_domains[domain]}")
            owner = fields.get("owner_email", "")
            owner_email = parse_address(owner, "owner_email")[0] if owner else None
        except FieldError as exc:
            yield Rejected(row.position, exc.field, exc.reason)
            continue
        seen_ids[fields["account_id"]] = row.position
        seen_domains.update(dict.fromkeys(domains, row.position))
        yield Account(row.position, fields["account_id"], fields["name"], domains, kind, owner_email)
