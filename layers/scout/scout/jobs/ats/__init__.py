"""One module per ATS kind, each with the same shape: an ``ADAPTER`` (see ``adapter.py``)."""
