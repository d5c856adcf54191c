"""The Streamlit chat for officials (issue 6). It will talk to the /v1 API over HTTP only.

Not built yet: until then `make run` serves the API alone.
"""
