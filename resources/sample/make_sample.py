#!/usr/bin/env python3
"""Generates DeepTune's bundled sample datasets, deterministically (fixed seed, stdlib only).

dates.jsonl    — prompt/response: rewrite an ISO date (2024-03-15) in words ("15 March 2024").
                 Learnable by a tiny model from scratch: copy the day and year, look up the month.
                 The sample project pretrains its base model on it (a full fine-tune).
dates_fr.jsonl — the same task in French ("Écris 2024-03-01 en toutes lettres : " ->
                 "1er mars 2024"): new month names, "1er" for the first day. The sample's LoRA run
                 adapts the English base to it — a small, visible domain shift.
tickets.csv  — text/label: short customer-support messages to route to billing, technical,
               shipping or account. Built from templates with slot fillers, so the label follows
               from keywords a small classifier can pick up.

Every row is synthetic: written by this script, from nobody's data.
Usage: python3 make_sample.py OUT_DIR   (the committed files are this script's output)
"""
import csv
import io
import json
import random
import sys
from pathlib import Path

SEED = 20261128
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
DATE_PROMPTS = [
    "Write {iso} in words: ",
    "Date {iso} in words: ",
    "Spell out the date {iso}: ",
]


MOIS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
        "octobre", "novembre", "décembre"]
DATE_PROMPTS_FR = [
    "Écris {iso} en toutes lettres : ",
    "Date {iso} en lettres : ",
]


def random_date(rng):
    year = rng.randint(1900, 2099)
    month = rng.randint(1, 12)
    day = rng.randint(1, DAYS_IN_MONTH[month - 1] - (1 if month == 2 else 0))
    return year, month, day, f"{year:04d}-{month:02d}-{day:02d}"


def make_dates(rng, n=2000):
    rows = []
    for _ in range(n):
        year, month, day, iso = random_date(rng)
        prompt = rng.choice(DATE_PROMPTS).format(iso=iso)
        rows.append({"prompt": prompt, "response": f"{day} {MONTHS[month - 1]} {year}"})
    return rows


def make_dates_fr(rng, n=1500):
    rows = []
    for _ in range(n):
        year, month, day, iso = random_date(rng)
        prompt = rng.choice(DATE_PROMPTS_FR).format(iso=iso)
        day_text = "1er" if day == 1 else str(day)
        rows.append({"prompt": prompt, "response": f"{day_text} {MOIS[month - 1]} {year}"})
    return rows


TICKETS = {
    "billing": [
        "I was charged twice for order {n}, please refund one payment",
        "Why is my invoice {n} higher than last month?",
        "My card was declined but the money left my account",
        "Can I get a receipt for payment {n}?",
        "The discount code {code} was not applied to my bill",
    ],
    "technical": [
        "The app crashes when I open the settings page",
        "Error {n} appears every time I try to log in on {device}",
        "Sync stopped working on my {device} since the last update",
        "The export button does nothing, I tried on {device} too",
        "Pages load very slowly, \"timeout\" shows after a minute",
    ],
    "shipping": [
        "My parcel {n} has not arrived after two weeks",
        "The tracking number {n} shows no updates",
        "Can you deliver to a different address, {city}?",
        "The box arrived damaged, items missing from order {n}",
        "How long does delivery to {city} take?",
    ],
    "account": [
        "I forgot my password and the reset email never came",
        "Please change the email on my account to a new one",
        "How do I delete my account and all my data?",
        "Someone else logged in to my account from {city}",
        "I want to merge my two accounts, one is {code}",
    ],
}
DEVICES = ["Android", "iPhone", "Windows", "macOS", "Linux", "my tablet"]
CITIES = ["Lyon", "Osaka", "Porto", "Leeds", "Gdansk", "Austin", "Hangzhou"]


def make_tickets(rng, n=1200):
    rows = []
    labels = sorted(TICKETS)
    for _ in range(n):
        label = rng.choice(labels)
        text = rng.choice(TICKETS[label]).format(
            n=rng.randint(10000, 99999), code=f"{rng.choice('ABCDEFGH')}{rng.randint(100, 999)}",
            device=rng.choice(DEVICES), city=rng.choice(CITIES))
        if rng.random() < 0.3:
            text += rng.choice([". Thanks", ", thank you!", ". Urgent, please", "!!"])
        rows.append((text, label))
    return rows


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)
    rng = random.Random(SEED)
    with open(out / "dates.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for row in make_dates(rng):
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    with open(out / "dates_fr.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for row in make_dates_fr(rng):
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["text", "label"])
    w.writerows(make_tickets(rng))
    (out / "tickets.csv").write_text(buf.getvalue(), encoding="utf-8")


if __name__ == "__main__":
    main()
