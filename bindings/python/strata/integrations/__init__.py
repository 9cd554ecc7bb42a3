"""Adapters between Strata and agent frameworks.

Each adapter is its own module and imports its framework only when imported itself, so
``import strata`` never needs one:

- :mod:`strata.integrations.langchain`: a LangChain ``VectorStore`` and chat message history
  (needs ``langchain-core``).
"""
