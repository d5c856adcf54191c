"""Documents: the corpus as a table, one document with its figures, and adding one by upload."""

from __future__ import annotations

import streamlit as st

from ui import session
from ui.client import ApiClient, ApiError
from ui.render import document_label, document_text_html, escape_markdown, format_date

UPLOAD_TYPES = ["txt", "md", "markdown", "pdf", "docx", "html", "htm"]
ADDED = "document_added"  # the message after an upload, shown once on the next run


def main() -> None:
    client = session.client()
    st.title("Documents")
    try:
        documents = client.documents()
    except ApiError as exc:
        st.error(exc.message, icon=":material/cloud_off:")
        st.button("Retry", icon=":material/refresh:")
        return
    st.caption(f"{len(documents)} documents answer questions in the chat.")
    st.dataframe(
        [
            {
                "Title": d.title, "Date": format_date(d.date), "Source": d.source or "",
                "Figures": d.figures or 0, "Passages": d.chunks or 0, "Id": d.id,
            }
            for d in documents
        ],
        hide_index=True,
        use_container_width=True,
    )  # fmt: skip
    titles = {d.id: document_label(d) for d in documents}
    chosen = st.selectbox(
        "Open a document", options=list(titles), format_func=titles.get, index=None,
        placeholder="Choose a document to read it with its figures", key="open_document",
    )  # fmt: skip
    if chosen:
        _show_document(client, chosen)
    st.divider()
    _upload_form(client)


def _show_document(client: ApiClient, doc_id: str) -> None:
    try:
        detail = client.document(doc_id)
    except ApiError as exc:
        st.error(exc.message)
        return
    document = detail.document
    st.subheader(document.title, anchor=False)
    facts = [format_date(document.date), document.source or "", f"id {document.id}"]
    st.text(" · ".join(f for f in facts if f))
    if document.url:
        st.link_button("Open the original", document.url, icon=":material/open_in_new:")
    st.markdown(f"**Figures extracted ({len(detail.figures)})**")
    st.dataframe(
        [
            {
                "Figure": f.text, "Counts": f.subject or f.unit or "",
                "As of": f.as_of.isoformat() if f.as_of else "", "Sentence": f.sentence,
            }
            for f in detail.figures
        ],
        hide_index=True,
        use_container_width=True,
    )  # fmt: skip
    with st.expander("Full text"):
        st.html(document_text_html(document.text))


def _upload_form(client: ApiClient) -> None:
    st.subheader("Add a document", anchor=False)
    if message := st.session_state.pop(ADDED, None):
        st.success(message, icon=":material/check_circle:")
    with st.form("upload", clear_on_submit=True):
        upload = st.file_uploader("A PDF, Word, web page, text or Markdown file", type=UPLOAD_TYPES)
        title = st.text_input("Title", placeholder="From the file's front matter if left empty")
        date = st.date_input(
            "Date", value=None, min_value=session.EARLIEST_DATE, format="YYYY-MM-DD"
        )
        source = st.text_input("Source", placeholder="Publisher")
        url = st.text_input("Link to the original", placeholder="https://…")
        submitted = st.form_submit_button("Add document", icon=":material/upload_file:")
    if not submitted:
        return
    if not client.api_key:
        st.error("Adding documents needs an API key: enter it under “API key” in the sidebar.")
        return
    if upload is None:
        st.error("Choose a file to add.")
        return
    with st.spinner("Adding the document and indexing it…"):
        try:
            detail = client.add_document(upload.name, upload.getvalue(), title, date, source, url)
        except ApiError as exc:
            st.error(f"The document was not added. {exc.message}")
            return
    added = detail.document
    st.session_state[ADDED] = (
        f"Added “{escape_markdown(added.title)}” ({added.chunks} passages, "
        f"{len(detail.figures)} figures). It answers questions in the chat now."
    )
    st.cache_data.clear()  # the chat's document filter lists it too
    st.rerun()


main()
