"""Phone numbers and e-mail addresses are masked; years, amounts, dates and references stay."""

from __future__ import annotations

import pytest

from complaints.scrub import EMAIL_MASK, PHONE_MASK, scrub_contacts

MASKED = [
    ("appelez Awa Traoré au +223 70 12 34 56", "appelez Awa Traoré au " + PHONE_MASK),
    ("mon numéro 0022370123456 merci", f"mon numéro {PHONE_MASK} merci"),
    ("mon numéro 00223 70 12 34 56", f"mon numéro {PHONE_MASK}"),
    ("tel: 70123456", f"tel: {PHONE_MASK}"),
    ("tel 70-12-34-56.", f"tel {PHONE_MASK}."),
    ("tel 70.12.34.56", f"tel {PHONE_MASK}"),
    ("joindre 7012 3456 le soir", f"joindre {PHONE_MASK} le soir"),
    ("(+223) 66 12 34 56", PHONE_MASK),
    ("+22376123456", PHONE_MASK),
    ("+223-76-12-34-56", PHONE_MASK),
    ("22370123456", PHONE_MASK),
    ("fixe 20 22 45 67 à Bamako", f"fixe {PHONE_MASK} à Bamako"),
    ("Orange 90 11 22 33, Malitel 65 11 22 33", f"Orange {PHONE_MASK}, Malitel {PHONE_MASK}"),
    ("écrire à awa.traore@example.org svp", f"écrire à {EMAIL_MASK} svp"),
    ("mail: a_b+c@mail.co.ml", f"mail: {EMAIL_MASK}"),
    ("76123456/66123456", f"{PHONE_MASK}/{PHONE_MASK}"),
]

KEPT = [
    "Le forage est en panne depuis 2024.",
    "On nous a demandé 25 000 FCFA pour le certificat.",
    "Il a payé 1 500 000 F au chef.",
    "Le budget était de 50000000 FCFA cette année.",
    "Montant : 12 000 000 francs",
    "Réunion du 12-03-2024 et du 12/03/2024 à 10h30.",
    "Le 2024-03-12, personne n'est venu.",
    "Depuis le 20240312 rien ne bouge.",
    "Ma plainte K7M4-QXP9 n'a pas de réponse.",
    "Lot n° 1234, parcelle 56 du titre foncier 123456789.",
    "Décret n°2023-0401/PT-RM du 22 juin 2023",
    "Quartier Hamdallaye ACI 2000, rue 123, porte 45.",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_contacts_are_masked(text: str, expected: str) -> None:
    assert scrub_contacts(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_other_figures_are_kept(text: str) -> None:
    assert scrub_contacts(text) == text


def test_idempotent() -> None:
    once = scrub_contacts("appelez le 70 12 34 56 ou x@y.ml")
    assert scrub_contacts(once) == once
