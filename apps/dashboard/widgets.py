"""Widgets whose state outlives a change of their options (streamlit only, cheap to import)."""

from __future__ import annotations

from typing import Any

import streamlit as st


def choose(label: str, options: list[str], key: str, where: Any = st) -> list[str]:
    """A multiselect over ``options`` (all chosen at first) that keeps the user's choice when
    its options change (dumps come and go, the sidebar narrows a page's rows) and selects
    options that newly appear: a keyed multiselect alone keeps its old value, so an option
    that comes back would stay unselected. ``where``: the container to draw it in."""
    known_key = f"_{key}_known"
    known = st.session_state.get(known_key)
    if key not in st.session_state:
        st.session_state[key] = list(options)
    elif known is not None and list(known) != list(options):
        chosen = st.session_state[key]
        st.session_state[key] = [o for o in options if o in chosen or o not in known]
    st.session_state[known_key] = list(options)
    return where.multiselect(label, options, key=key)
