"""The chat for officials: `streamlit run ui/app.py` (or `reformqa run`, which starts the API
too). A thin shell over the /v1 API: every answer, passage and figure comes from it."""

from pathlib import Path

import streamlit as st

from ui.session import page_setup

st.set_page_config(page_title="Reform QA", page_icon=str(Path(__file__).with_name("icon.svg")))
page = st.navigation(
    [
        st.Page("pages/chat.py", title="Ask", icon=":material/forum:", default=True),
        st.Page("pages/documents.py", title="Documents", icon=":material/description:"),
    ]
)
page_setup()
page.run()
