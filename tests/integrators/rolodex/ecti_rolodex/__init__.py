"""A plugin with a table of its own: the company's card index of callers."""
