"""A question and its evidence become a cited answer: the prompt, the follow-up rewrite and
the history that fits, the attribution of each sentence to a source, what is released of
the stream, links made safe, and the answer cache. It asks app/models to generate."""
