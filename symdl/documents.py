"""The five lecture documents by title and year, for text a reader sees instead of file names.

Derivations cite a document by its file name ("003_ff0b9f77f02ec2c2.txt §3.1"), which is exact
but means nothing to a student. `cite` names it the way a handout does, "Short Introduction to
Deep Learning and its Math – Part I (2020), §3.1", and puts the file name in a footnote when
asked. Titles, authors and years are those printed on each document's first page
(`DOCUMENTS` below lists them); 003 prints no date, its year is the "as of 2020" of
its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    file: str
    title: str
    author: str
    year: int
    kind: str

    @property
    def short(self):
        return f"{self.title} ({self.year})"

    @property
    def cited(self):
        """Author and year, as a textbook cites: Copeland (2024)."""
        return f"{self.author.split()[-1]} ({self.year})"


DOCUMENTS = {d.file[:3]: d for d in (
    Document("000_b9e7c87dcfbd1c26.txt", "Mathematical Intuition of Deep Learning",
             "Wade Copeland", 2024, "slides, 2024 edition"),
    Document("001_153ca892f3cbebf4.txt", "The Mathematics of Deep Learning", "Alex Bearden",
             2022, "UT Tyler math club talk"),
    Document("002_4c33554d2058975c.txt", "The Mathematical Intuition of Deep Learning",
             "Wade Copeland", 2025, "slides, 2025 edition"),
    Document("003_ff0b9f77f02ec2c2.txt", "Short Introduction to Deep Learning and its Math – Part I",
             "Branislav Kisačanin", 2020, "paper"),
    Document("004_36f6966e031dacf2.txt", "Mathematics in Deep Learning", "Lachlan Jones", 2024,
             "workshop slides"),
)}
FILE_NAME = re.compile(r"\b(\d{3})_[0-9a-f]{16}\.txt\b")
NUMBER = re.compile(r"(?<![\w,.])(00[0-4])(?:/(00[0-4]))?(?=['’ ,;:)]|$)")
"""A document named by its number in prose: "001's", "(000 Gradient Descent II)", "000/002";
not the 000 of 60,000 nor a file name's 001_…"""


def by_author(text: str) -> str:
    """`text` with each document number replaced by its author and year: "001's J" becomes
    "Bearden (2022)'s J", "000/002" "Copeland (2024, 2025)". Derivation files write the short
    numbers; a handout for students names the documents as a textbook cites them."""
    def name(match):
        first = DOCUMENTS[match.group(1)]
        if match.group(2) is None:
            return first.cited
        second = DOCUMENTS[match.group(2)]
        if second.author == first.author:
            return f"{first.author.split()[-1]} ({first.year}, {second.year})"
        return f"{first.cited} and {second.cited}"
    return NUMBER.sub(name, text)


def documents_in(source: str) -> list[Document]:
    """The documents a citation names, in the order it names them."""
    found = []
    for match in FILE_NAME.finditer(source):
        document = DOCUMENTS.get(match.group(1))
        if document and document not in found:
            found.append(document)
    return found


def cite(source: str, footnote=None) -> str:
    """`source` with every document file name replaced by "Title (year)".

    `footnote`, if given, is called with the file name and its result is put after the title
    (the LaTeX report passes lambda f: r"\\footnote{...}").
    """
    def name(match):
        document = DOCUMENTS.get(match.group(1))
        if document is None:
            return match.group(0)
        return document.short + (footnote(document.file) if footnote else "")
    return FILE_NAME.sub(name, source)
