"""What a page shows, as plain data (no Streamlit): the board element's tree, and more to come."""
