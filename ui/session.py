"""What every page shares: the settings, the API client, the sidebar's connection controls."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from index.settings import Settings
from ui.client import ApiClient
from ui.render import STYLE

API_KEY = "api_key"  # session key of the sidebar's API key field
EARLIEST_DATE = dt.date(1945, 1, 1)  # date pickers' lower bound: older reform documents exist


def settings() -> Settings:
    return Settings.from_env()  # cheap, and tests change the environment between runs


def client() -> ApiClient:
    config = settings()
    key = st.session_state.get(API_KEY, "")
    return ApiClient(config.api_base_url(), config.api_timeout_seconds, key)


def page_setup() -> None:
    """The shared styles and the sidebar's API section, on every page."""
    st.html(STYLE)
    config = settings()
    st.session_state.setdefault(API_KEY, config.upload_key())
    with st.sidebar:
        st.markdown(f"[API documentation]({config.api_base_url()}/docs)")
        with st.expander("API key (to add documents)"):
            st.text_input(
                "API key", key=API_KEY, type="password", label_visibility="collapsed",
                placeholder="X-API-Key", help="Sent only with document uploads",
            )  # fmt: skip
