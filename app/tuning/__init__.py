"""Retrieval that learns the corpus while the answering model stays frozen: synthetic
questions written by a local model (questions.py), a held-back self-evaluation on them
(selfeval.py), and retrievers tuned on the rest."""
