"""Evidence windows: the sentences or lines of the retrieved chunks that answer, within a
token budget, in document order, with the rest marked as left out. No model involved."""

from __future__ import annotations

from app.core.text import terms
from app.retrieval.evidence import GAP, select_evidence, split_units
from app.retrieval.types import RetrievedChunk

HANDBOOK = (
    "## 3. Annual leave\n"
    "The leave year runs from 1 January to 31 December. Employees book leave in Tally. "
    "You may carry over up to 6 unused days into the next leave year. Carried-over days "
    "must be taken by 31 March. Unused days above that limit cannot be paid out. "
    "The plant closes for two weeks in August. Production staff keep 8 days for it.\n"
)
PRICING = (
    "# Discount on list price by customer tier.\n"
    "DISCOUNT_BY_TIER = {\n"
    '    "silver": Decimal("0.05"),\n'
    '    "gold": Decimal("0.12"),\n'
    "}\n"
    "\n"
    "def quote_total(lines):\n"
    "    return sum(line.net for line in lines)\n"
)


def chunk(text: str, source: str, n: int = 0) -> RetrievedChunk:
    return RetrievedChunk(
        chunk_id=f"{source}-{n}", document_id=n + 1, source=source, title=source, ordinal=n,
        text=text, context=f"Document: {source}", score=1.0 - n / 10, char_start=100,
        char_end=100 + len(text), page=None,
    )  # fmt: skip


def words(text: str) -> int:
    return len(text.split())


def test_units_are_sentences_within_lines_and_cover_the_text() -> None:
    units = split_units(HANDBOOK)
    texts = [u.text(HANDBOOK) for u in units]
    assert texts[0] == "## 3. Annual leave"
    assert texts[1] == "The leave year runs from 1 January to 31 December. "
    assert "You may carry over up to 6 unused days into the next leave year. " in texts
    assert "".join(texts).replace(" ", "") == HANDBOOK.replace("\n", "").replace(" ", "")


def test_the_answering_sentence_is_selected_with_its_neighbours_within_budget() -> None:
    q = "How many unused days of annual leave may an employee carry over?"
    (block,) = select_evidence(q, [chunk(HANDBOOK, "handbook.md")], 40, words)
    assert "carry over up to 6 unused days" in block.text
    assert "Employees book leave in Tally." in block.text  # the sentence before it
    assert words(block.text) <= 40 + 2  # the budget, give or take the gap markers
    assert "Production staff keep 8 days" not in block.text  # far away, left out
    assert block.text.endswith(" …")  # says that text follows
    start, end = block.span
    assert 100 <= start < end <= 100 + len(HANDBOOK)


def test_far_apart_selections_are_joined_by_a_gap_marker_in_document_order() -> None:
    q = "Leave year runs from January; production staff keep days for the August closure?"
    (block,) = select_evidence(q, [chunk(HANDBOOK, "handbook.md")], 60, words, window=0)
    assert GAP in block.text
    assert block.text.index("1 January") < block.text.index("8 days")


def test_short_code_lines_bring_the_lines_under_a_matching_comment() -> None:
    q = "What percentage discount on list price does a gold customer tier get?"
    (block,) = select_evidence(q, [chunk(PRICING, "pricing.py")], 60, words)
    assert '"gold": Decimal("0.12")' in block.text
    assert "# Discount on list price by customer tier." in block.text


def test_a_passage_announcing_a_change_brings_the_new_value() -> None:
    bulletin = (
        "SECURITY BULLETIN SB-02\nIssued by: Information Security\n\n"
        "Change to the screen lock rule\nThis bulletin supersedes the screen lock rule on "
        "the IT helpdesk page (20 minutes). With immediate effect, idle workstations lock "
        "themselves after 6 minutes.\n\nPhishing reports go to the report button.\n"
    )
    (block,) = select_evidence("What is the screen lock rule now?", [chunk(bulletin, "b.txt")],
                               120, words)  # fmt: skip
    assert "after 6 minutes" in block.text
    assert "Phishing" not in block.text


def test_the_best_passage_comes_first_and_unselected_chunks_are_dropped() -> None:
    chunks = [
        chunk("The canteen opens at 08:00.\nIt serves soup.\n", "a.md", 0),
        chunk("Product TQ-4471 weighs 410 g.\nIt ships in a case.\n", "b.md", 1),
        chunk("The Halden Room has 60 seats.\n", "c.md", 2),
    ]
    blocks = select_evidence("How much does the TQ-4471 weigh?", chunks, 12, words, window=0)
    assert [b.chunk.source for b in blocks][0] == "b.md"  # retrieved second, matches best
    assert all("Halden" not in b.text for b in blocks)


def test_embedding_similarity_finds_a_paraphrase_lexical_overlap_misses(minilm) -> None:
    text = (
        "The Kelderby plant is open from 06:00 to 22:00.\n"
        "Staff who fall ill must phone their manager before 09:30 on the first day.\n"
        "The car park has 40 spaces.\n"
    )
    q = "What is the deadline to call in sick?"
    lexical = select_evidence(q, [chunk(text, "h.md")], 16, words, window=0)
    embedded = select_evidence(
        q, [chunk(text, "h.md")], 16, words, embed=minilm.embed_documents, window=0
    )
    assert "09:30" in embedded[0].text
    assert "09:30" not in lexical[0].text  # no shared term: lexical alone cannot find it


def test_terms_fold_numbers_codes_and_possessives() -> None:
    assert {"priya", "4455", "tq-4471", "2115", "unit"} <= terms(
        "Priya's extension: 4455. TQ-4471 costs 2,115 units."
    )
    assert "the" not in terms("the")


def test_a_markdown_table_row_comes_under_its_header() -> None:
    sites = (
        "# Our sites\n\n| Site | Postcode | Dock doors | Site manager |\n|---|---|---|---|\n"
        "| Vellbo | GB14 2MG | 15 | Berva Lasstearea |\n| Kolsto | KL15 6BN | 10 | Drainbri Sto |\n"
        "| Pildrea | MR3 4PT | 47 | Veallhai Bullfaitre |\n"
    )
    (block,) = select_evidence("What is the postcode of the Kolsto site?",
                               [chunk(sites, "sites.md")], 120, words)  # fmt: skip
    assert "| Site | Postcode | Dock doors | Site manager |" in block.text  # what each value is
    assert "| Kolsto | KL15 6BN |" in block.text
    # The row is scored with its header's words: a row that only names the site is found.
    (doors,) = select_evidence("How many dock doors does Pildrea have?",
                               [chunk(sites, "sites.md")], 120, words)  # fmt: skip
    assert "| Pildrea | MR3 4PT | 47 |" in doors.text and "Dock doors" in doors.text
