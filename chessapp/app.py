"""The entry point: ``streamlit run chessapp/app.py``. It only routes.

Page 1, "Café 1913", is the default; page 2, "Analysis", is the engine
analysis workbench; page 3, "Reports", reads a database run's report file.
Pages are files in ``chessapp/ui/`` so each can also be run on its own by
``AppTest.from_file``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import streamlit as st

UI = Path(__file__).resolve().parent / "ui"


def pages() -> list[st.Page]:
    return [
        st.Page(UI / "cafe.py", title="Café 1913", icon=":material/local_cafe:", default=True),
        st.Page(UI / "analysis.py", title="Analysis", icon=":material/query_stats:",
                url_path="analysis"),
        st.Page(UI / "reports.py", title="Reports", icon=":material/table_chart:",
                url_path="reports"),
    ]


def main() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # CHESSAPP_LOG_LEVEL=DEBUG also logs each board rerun's server time (benchmarks read
    # it). Only our loggers: the libraries' debug output would swamp the server.
    logging.getLogger("chessapp").setLevel(os.environ.get("CHESSAPP_LOG_LEVEL", "INFO").upper())
    st.set_page_config(page_title="Café 1913", page_icon="♞", layout="wide")
    st.navigation(pages()).run()


main()
